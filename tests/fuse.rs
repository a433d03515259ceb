//! The FUSE passthrough example (`examples/fuse_passthrough/`) on a real mount.
//!
//! Needs root, `/dev/fuse` and a kernel with `CONFIG_FUSE_IO_URING`
//! (`/sys/module/fuse/parameters/enable_uring` exists); skips with the reason otherwise. The
//! tests build the example with `cargo build --example fuse_passthrough` into the test's own
//! target directory, set `enable_uring` for their run and restore the old value through a
//! drop guard (even when a test panics), and run one at a time (the parameter is global).
//!
//! Nothing outlives a test: a guard stops the server (SIGTERM, then SIGKILL), unmounts lazily
//! if the mount is still there, and removes the temporary directories; a watchdog kills the
//! server if a test hangs, which aborts the connection so that blocked file operations fail
//! instead of hanging forever.

mod common;

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

const PARAM: &str = "/sys/module/fuse/parameters/enable_uring";

/// The tests change a global module parameter: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Restores `enable_uring` on drop.
struct ParamGuard {
    old: String,
}

impl ParamGuard {
    fn set(value: &str) -> Result<ParamGuard, String> {
        let old = fs::read_to_string(PARAM).map_err(|e| format!("{PARAM}: {e}"))?.trim().to_string();
        fs::write(PARAM, value).map_err(|e| format!("writing {value} to {PARAM}: {e}"))?;
        Ok(ParamGuard { old })
    }
}

impl Drop for ParamGuard {
    fn drop(&mut self) {
        if let Err(e) = fs::write(PARAM, &self.old) {
            common::note("fuse", format!("could not restore {PARAM} to {}: {e}", self.old));
        }
    }
}

/// Why this machine cannot run the tests, if it cannot.
fn unsupported() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (mount(2) and enable_uring need it)".into());
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("/dev/fuse is missing".into());
    }
    if !Path::new(PARAM).exists() {
        return Some(format!("{PARAM} is missing: kernel without CONFIG_FUSE_IO_URING"));
    }
    None
}

/// The example binary: from `URING_TEST_EXAMPLES_DIR` when set (the kernel matrix puts the
/// prebuilt examples there), else built into this test's target directory. `Err` says why it
/// is unavailable (no cargo, as inside a test VM).
fn build_server() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("URING_TEST_EXAMPLES_DIR") {
        let bin = PathBuf::from(dir).join("fuse_passthrough");
        if bin.exists() {
            return Ok(bin);
        }
    }
    let exe = std::env::current_exe().map_err(|e| format!("test executable path: {e}"))?;
    // <target>/<profile>/deps/fuse-<hash>
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("no target/<profile> directory")?.to_path_buf();
    let target_dir = profile_dir.parent().ok_or("no target directory")?.to_path_buf();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(["build", "--quiet", "--example", "fuse_passthrough"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    let status = cmd.status().map_err(|e| format!("cannot run cargo to build the example: {e}"))?;
    assert!(status.success(), "cargo build --example fuse_passthrough failed");
    let bin = profile_dir.join("examples").join("fuse_passthrough");
    assert!(bin.exists(), "{} missing after the build", bin.display());
    Ok(bin)
}

fn is_fuse_mounted(mnt: &Path) -> bool {
    let want = mnt.to_string_lossy().replace(' ', "\\040");
    fs::read_to_string("/proc/self/mounts").unwrap_or_default().lines().any(|l| {
        l.split(' ').nth(1) == Some(want.as_str()) && l.split(' ').nth(2).is_some_and(|t| t.starts_with("fuse"))
    })
}

fn lazy_unmount(mnt: &Path) {
    let c = CString::new(mnt.as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated path.
    unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
}

/// A running server on a fresh source directory and mount point. Dropping it stops the
/// server, unmounts and cleans up, whatever state the test left.
struct Server {
    child: Option<Child>,
    dir: PathBuf,
    src: PathBuf,
    mnt: PathBuf,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    watchdog: Option<mpsc::Sender<()>>,
}

fn collect(pipe: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>, echo: bool) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if echo {
                let _ = writeln!(std::io::stderr(), "  [server] {line}");
            }
            into.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
}

impl Server {
    fn start(bin: &Path, tag: &str, args: &[&str], limit: Duration) -> Server {
        let dir = std::env::temp_dir().join(format!("uring-fuse-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (src, mnt) = (dir.join("src"), dir.join("mnt"));
        fs::create_dir_all(&src).unwrap();
        fs::create_dir_all(&mnt).unwrap();
        let mut child = Command::new(bin)
            .args(args)
            .arg(&src)
            .arg(&mnt)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting fuse_passthrough");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), stdout.clone(), false);
        collect(child.stderr.take().unwrap(), stderr.clone(), true);
        // Kill the server if the test takes too long: its connection is aborted, so file
        // operations stuck on the mount fail and the test can unwind and clean up.
        let (tx, rx) = mpsc::channel::<()>();
        let pid = child.id() as libc::pid_t;
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                let _ = writeln!(std::io::stderr(), "watchdog: test over {limit:?}, killing the server");
                // SAFETY: plain syscall; the child is not reaped before the watchdog is
                // cancelled, so the pid is still the server's.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        let mut srv = Server { child: Some(child), dir, src, mnt, stdout, stderr, watchdog: Some(tx) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while srv.ready_line().is_none() {
            if let Some(status) = srv.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("server exited before READY ({status}); stderr: {:?}", srv.stderr_text());
            }
            assert!(Instant::now() < deadline, "no READY from the server in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(is_fuse_mounted(&srv.mnt), "READY but {} is not mounted", srv.mnt.display());
        srv
    }

    fn ready_line(&self) -> Option<String> {
        self.stdout.lock().unwrap().iter().find(|l| l.starts_with("READY")).cloned()
    }

    fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Whether `needle` shows in the server's stderr within `timeout`: stdout and stderr are
    /// read by two threads, so a line printed before READY may be collected after it.
    fn stderr_shows(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr_text().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits for the exit (the server unmounts); returns the STATS line.
    fn stop(&mut self) -> String {
        let mut child = self.child.take().expect("server running");
        // SAFETY: plain syscall on our unreaped child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                // SAFETY: as above.
                unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
                let _ = child.wait();
                panic!("server did not exit within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.watchdog.take();
        assert!(status.success(), "server exit status {status}; stderr: {}", self.stderr_text());
        assert!(!is_fuse_mounted(&self.mnt), "the server exited but left its mount");
        // The output threads finish when the pipes close.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(l) = self.stdout.lock().unwrap().iter().find(|l| l.starts_with("STATS")) {
                return l.clone();
            }
            assert!(Instant::now() < deadline, "no STATS line from the server");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id() as libc::pid_t;
            // SAFETY: plain syscall on our unreaped child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(3);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        self.watchdog.take();
        if is_fuse_mounted(&self.mnt) {
            lazy_unmount(&self.mnt);
        }
        if !is_fuse_mounted(&self.mnt) {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// `key=value` fields of a READY or STATS line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

fn num(line: &str, key: &str) -> u64 {
    field(line, key).parse().unwrap()
}

/// Deterministic pseudo-random bytes.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The attributes the mount must report exactly as the source tree does.
fn assert_same_attrs(src: &Path, mnt: &Path) {
    let a = fs::symlink_metadata(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let b = fs::symlink_metadata(mnt).unwrap_or_else(|e| panic!("{}: {e}", mnt.display()));
    let pairs = [
        ("ino", a.ino(), b.ino()),
        ("mode", a.mode() as u64, b.mode() as u64),
        ("nlink", a.nlink(), b.nlink()),
        ("uid", a.uid() as u64, b.uid() as u64),
        ("gid", a.gid() as u64, b.gid() as u64),
        ("size", a.size(), b.size()),
        ("blocks", a.blocks(), b.blocks()),
        ("mtime", a.mtime() as u64, b.mtime() as u64),
        ("mtime_nsec", a.mtime_nsec() as u64, b.mtime_nsec() as u64),
        ("ctime", a.ctime() as u64, b.ctime() as u64),
        ("ctime_nsec", a.ctime_nsec() as u64, b.ctime_nsec() as u64),
    ];
    for (name, x, y) in pairs {
        assert_eq!(x, y, "{name} of {} (source) vs {} (mount)", src.display(), mnt.display());
    }
}

/// Contents: the mount, the source and the expectation agree byte for byte.
fn assert_same_bytes(src: &Path, mnt: &Path, want: &[u8]) {
    let through = fs::read(mnt).unwrap_or_else(|e| panic!("read {}: {e}", mnt.display()));
    let direct = fs::read(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    assert!(
        through == want,
        "{}: {} bytes through the mount differ from the expected {}",
        mnt.display(),
        through.len(),
        want.len()
    );
    assert!(
        direct == want,
        "{}: {} bytes in the source differ from the expected {}",
        src.display(),
        direct.len(),
        want.len()
    );
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn renameat2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    let (a, b) = (CString::new(from.as_os_str().as_bytes()).unwrap(), CString::new(to.as_os_str().as_bytes()).unwrap());
    // SAFETY: plain syscall with NUL-terminated paths.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), flags) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

const SIZES: [usize; 6] = [0, 1, 4095, 4096, (1 << 20) + 1, 16 << 20];

/// Creates, writes, reads back, renames, lists, stats, truncates and deletes files and
/// directories through the mount, checking every byte and attribute against the source tree.
fn exercise(src: &Path, mnt: &Path) {
    // Directories.
    fs::create_dir(mnt.join("a")).unwrap();
    fs::create_dir(mnt.join("a/nested")).unwrap();
    fs::create_dir(mnt.join("b")).unwrap();
    assert!(src.join("a/nested").is_dir() && src.join("b").is_dir());
    for d in ["a", "a/nested", "b"] {
        assert_same_attrs(&src.join(d), &mnt.join(d));
    }
    assert_same_attrs(src, mnt);

    // Files: create + write, read back, partial reads and writes.
    let mut contents = Vec::new();
    for (i, &size) in SIZES.iter().enumerate() {
        let name = format!("a/file_{size}");
        let mut data = pattern(size, i as u64 + 1);
        fs::write(mnt.join(&name), &data).unwrap();
        assert_same_bytes(&src.join(&name), &mnt.join(&name), &data);
        assert_same_attrs(&src.join(&name), &mnt.join(&name));
        if size > 8192 {
            let f = File::open(mnt.join(&name)).unwrap();
            let mut part = vec![0u8; 5000];
            f.read_exact_at(&mut part, 4093).unwrap();
            assert_eq!(part, data[4093..4093 + 5000], "{name}: read at an unaligned offset");
        }
        if size >= 3 {
            // Overwrite three bytes in the middle, then fsync (FSYNC) and fdatasync.
            let f = OpenOptions::new().write(true).open(mnt.join(&name)).unwrap();
            f.write_all_at(b"xyz", size as u64 / 2).unwrap();
            f.sync_all().unwrap();
            f.sync_data().unwrap();
            drop(f);
            data[size / 2..size / 2 + 3].copy_from_slice(b"xyz");
            assert_same_bytes(&src.join(&name), &mnt.join(&name), &data);
            assert_same_attrs(&src.join(&name), &mnt.join(&name));
        }
        contents.push(data);
    }

    // Opening with O_NOFOLLOW (the server reopens through /proc/self/fd), O_EXCL on a name
    // that exists.
    let mut back = Vec::new();
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(mnt.join("a/file_4096"))
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == contents[3], "O_NOFOLLOW read");
    let e = OpenOptions::new().write(true).create_new(true).open(mnt.join("a/file_1")).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "O_CREAT | O_EXCL on an existing file");

    // Listing (READDIR / READDIRPLUS).
    let expect: BTreeSet<String> =
        SIZES.iter().map(|s| format!("file_{s}")).chain(std::iter::once("nested".to_string())).collect();
    assert_eq!(names(&mnt.join("a")), expect);
    assert_eq!(names(&src.join("a")), expect);
    for entry in fs::read_dir(mnt.join("a")).unwrap() {
        let entry = entry.unwrap();
        let via_dirent = entry.metadata().unwrap();
        assert_eq!(via_dirent.ino(), fs::symlink_metadata(src.join("a").join(entry.file_name())).unwrap().ino());
    }
    // A directory larger than one READDIR reply.
    fs::create_dir(mnt.join("many")).unwrap();
    let many: BTreeSet<String> = (0..400).map(|i| format!("entry-with-a-longish-name-{i:04}")).collect();
    for n in &many {
        fs::write(mnt.join("many").join(n), n.as_bytes()).unwrap();
    }
    assert_eq!(names(&mnt.join("many")), many);
    assert_eq!(names(&src.join("many")), many);

    // Renames (RENAME across directories, RENAME2 with flags).
    for (i, &size) in SIZES.iter().enumerate() {
        let (from, to) = (format!("a/file_{size}"), format!("b/renamed_{size}"));
        fs::rename(mnt.join(&from), mnt.join(&to)).unwrap();
        assert!(!src.join(&from).exists() && !mnt.join(&from).exists(), "{from} still there after rename");
        assert_same_bytes(&src.join(&to), &mnt.join(&to), &contents[i]);
        assert_same_attrs(&src.join(&to), &mnt.join(&to));
    }
    let (one, two) = (mnt.join("b/renamed_1"), mnt.join("b/renamed_4095"));
    let e = renameat2(&one, &two, libc::RENAME_NOREPLACE).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EEXIST), "RENAME_NOREPLACE onto an existing file");
    renameat2(&one, &two, libc::RENAME_EXCHANGE).unwrap();
    assert_same_bytes(&src.join("b/renamed_1"), &one, &contents[2]);
    assert_same_bytes(&src.join("b/renamed_4095"), &two, &contents[1]);
    renameat2(&one, &two, libc::RENAME_EXCHANGE).unwrap();
    assert_same_bytes(&src.join("b/renamed_1"), &one, &contents[1]);
    fs::rename(mnt.join("a/nested"), mnt.join("b/nested_moved")).unwrap();
    assert!(src.join("b/nested_moved").is_dir() && !src.join("a/nested").exists());
    assert_eq!(names(&mnt.join("b")), names(&src.join("b")));

    // Attributes (SETATTR): mode, times, size.
    let big = "b/renamed_16777216";
    fs::set_permissions(mnt.join(big), fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(fs::metadata(src.join(big)).unwrap().mode() & 0o7777, 0o600);
    assert_same_attrs(&src.join(big), &mnt.join(big));
    let when = SystemTime::UNIX_EPOCH + Duration::new(1_600_000_000, 123_456_789);
    let f = OpenOptions::new().write(true).open(mnt.join(big)).unwrap();
    f.set_times(fs::FileTimes::new().set_modified(when).set_accessed(when)).unwrap();
    drop(f);
    let m = fs::metadata(src.join(big)).unwrap();
    assert_eq!((m.mtime(), m.mtime_nsec()), (1_600_000_000, 123_456_789));
    assert_eq!((m.atime(), m.atime_nsec()), (1_600_000_000, 123_456_789));
    assert_same_attrs(&src.join(big), &mnt.join(big));
    // Times by path, without an open file (utimensat on the mount).
    let small = "b/renamed_4096";
    File::options().write(true).open(mnt.join(small)).unwrap().set_modified(when).unwrap();
    assert_same_attrs(&src.join(small), &mnt.join(small));
    fs::set_permissions(mnt.join("b"), fs::Permissions::from_mode(0o750)).unwrap();
    assert_same_attrs(&src.join("b"), &mnt.join("b"));

    // Truncation: shrink, extend with zeroes, O_TRUNC, to zero.
    let mut data = contents[5].clone();
    data[(16 << 20) / 2..(16 << 20) / 2 + 3].copy_from_slice(b"xyz");
    let f = OpenOptions::new().write(true).open(mnt.join(big)).unwrap();
    f.set_len(5000).unwrap();
    data.truncate(5000);
    assert_same_bytes(&src.join(big), &mnt.join(big), &data);
    assert_same_attrs(&src.join(big), &mnt.join(big));
    f.set_len((3 << 20) + 7).unwrap();
    data.resize((3 << 20) + 7, 0);
    assert_same_bytes(&src.join(big), &mnt.join(big), &data);
    assert_same_attrs(&src.join(big), &mnt.join(big));
    drop(f);
    let mid = "b/renamed_1048577";
    File::create(mnt.join(mid)).unwrap().write_all(b"after O_TRUNC").unwrap();
    assert_same_bytes(&src.join(mid), &mnt.join(mid), b"after O_TRUNC");
    assert_same_attrs(&src.join(mid), &mnt.join(mid));
    // Appending.
    OpenOptions::new().append(true).open(mnt.join(mid)).unwrap().write_all(b" + appended").unwrap();
    assert_same_bytes(&src.join(mid), &mnt.join(mid), b"after O_TRUNC + appended");
    // Truncate by path (SETATTR without a file handle).
    let c = CString::new(mnt.join(mid).as_os_str().as_bytes()).unwrap();
    // SAFETY: plain syscall with a NUL-terminated path.
    assert_eq!(unsafe { libc::truncate(c.as_ptr(), 0) }, 0, "truncate(2): {}", std::io::Error::last_os_error());
    assert_same_bytes(&src.join(mid), &mnt.join(mid), b"");
    assert_same_attrs(&src.join(mid), &mnt.join(mid));

    // STATFS and ACCESS.
    let statvfs = |p: &Path| {
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: plain syscall filling a zeroed struct of integers.
        unsafe {
            let mut s: libc::statvfs = core::mem::zeroed();
            assert_eq!(libc::statvfs(c.as_ptr(), &mut s), 0);
            s
        }
    };
    let (s, m) = (statvfs(src), statvfs(mnt));
    assert_eq!((s.f_blocks, s.f_bsize, s.f_files), (m.f_blocks, m.f_bsize, m.f_files), "statfs");
    let c = CString::new(mnt.join(small).as_os_str().as_bytes()).unwrap();
    // SAFETY: plain syscall with a NUL-terminated path.
    assert_eq!(unsafe { libc::access(c.as_ptr(), libc::R_OK | libc::W_OK) }, 0);

    // Deletion (UNLINK, RMDIR).
    for &size in &SIZES {
        let name = format!("b/renamed_{size}");
        fs::remove_file(mnt.join(&name)).unwrap();
        assert!(!src.join(&name).exists(), "{name} still in the source after unlink");
    }
    assert_eq!(fs::remove_dir(mnt.join("many")).unwrap_err().raw_os_error(), Some(libc::ENOTEMPTY));
    fs::remove_dir_all(mnt.join("many")).unwrap();
    for d in ["b/nested_moved", "b", "a"] {
        fs::remove_dir(mnt.join(d)).unwrap();
        assert!(!src.join(d).exists(), "{d} still in the source after rmdir");
    }
    assert!(names(mnt).is_empty() && names(src).is_empty(), "tree not empty at the end");
    assert_eq!(fs::metadata(mnt.join("gone")).unwrap_err().raw_os_error(), Some(libc::ENOENT));
}

/// The whole tree exercise with `enable_uring` = Y: every request but INIT and FORGET must
/// travel through io_uring ring entries, answered with COMMIT_AND_FETCH.
#[test]
fn passthrough_over_io_uring() {
    const TEST: &str = "passthrough_over_io_uring";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(why) = unsupported() {
        common::skip(TEST, why);
        return;
    }
    let bin = match build_server() {
        Ok(b) => b,
        Err(why) => {
            common::skip(TEST, why);
            return;
        }
    };
    let _param = ParamGuard::set("Y").unwrap();
    let mut srv = Server::start(&bin, "uring", &["--queue-depth", "4"], Duration::from_secs(300));
    let ready = srv.ready_line().unwrap();
    assert_eq!(field(&ready, "mode"), "uring", "READY line {ready:?}; stderr: {}", srv.stderr_text());
    let started = Instant::now();
    exercise(&srv.src.clone(), &srv.mnt.clone());
    let elapsed = started.elapsed();
    let stats = srv.stop();
    assert_eq!(field(&stats, "mode"), "uring");
    let (requests, commits, other) =
        (num(&stats, "uring_requests"), num(&stats, "commit_completions"), num(&stats, "devfuse_other"));
    assert!(requests > 1000, "only {requests} requests came through io_uring: {stats}");
    assert!(commits > 1000, "only {commits} COMMIT_AND_FETCH completions: {stats}");
    assert_eq!(other, 0, "requests went through /dev/fuse read() instead of io_uring: {stats}");
    common::note(TEST, format!("{ready}; exercise took {elapsed:.2?}; {stats}"));
}

/// With `enable_uring` = N the server says so and serves `/dev/fuse` with read/write.
#[test]
fn passthrough_devfuse_fallback() {
    const TEST: &str = "passthrough_devfuse_fallback";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(why) = unsupported() {
        common::skip(TEST, why);
        return;
    }
    let bin = match build_server() {
        Ok(b) => b,
        Err(why) => {
            common::skip(TEST, why);
            return;
        }
    };
    let _param = ParamGuard::set("N").unwrap();
    let mut srv = Server::start(&bin, "devfuse", &[], Duration::from_secs(120));
    let ready = srv.ready_line().unwrap();
    assert_eq!(field(&ready, "mode"), "devfuse", "{ready}");
    assert!(
        srv.stderr_shows("falling back to /dev/fuse", Duration::from_secs(10)),
        "no fallback notice: {}",
        srv.stderr_text()
    );
    let (src, mnt) = (srv.src.clone(), srv.mnt.clone());
    let data = pattern((1 << 20) + 1, 7);
    fs::create_dir(mnt.join("d")).unwrap();
    fs::write(mnt.join("d/f"), &data).unwrap();
    assert_same_bytes(&src.join("d/f"), &mnt.join("d/f"), &data);
    assert_same_attrs(&src.join("d/f"), &mnt.join("d/f"));
    assert_eq!(names(&mnt.join("d")), names(&src.join("d")));
    fs::rename(mnt.join("d/f"), mnt.join("d/g")).unwrap();
    fs::remove_file(mnt.join("d/g")).unwrap();
    fs::remove_dir(mnt.join("d")).unwrap();
    assert!(names(&src).is_empty());
    let stats = srv.stop();
    assert_eq!(field(&stats, "mode"), "devfuse");
    assert_eq!(num(&stats, "uring_requests"), 0, "{stats}");
    assert!(num(&stats, "devfuse_other") > 10, "{stats}");
    common::note(TEST, stats);
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn os_err(what: &str, r: libc::c_int) {
    assert!(r >= 0, "{what}: {}", std::io::Error::last_os_error());
}

fn errno_of(r: isize) -> Option<i32> {
    (r < 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

fn getxattr(p: &Path, name: &str) -> Result<Vec<u8>, i32> {
    let (c, n) = (cstr(p), CString::new(name).unwrap());
    // SAFETY: size query: no buffer is written.
    let len = unsafe { libc::getxattr(c.as_ptr(), n.as_ptr(), core::ptr::null_mut(), 0) };
    if let Some(e) = errno_of(len) {
        return Err(e);
    }
    let mut v = vec![0u8; len as usize];
    // SAFETY: the kernel writes at most `v.len()` bytes into `v`.
    let got = unsafe { libc::getxattr(c.as_ptr(), n.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
    if let Some(e) = errno_of(got) {
        return Err(e);
    }
    v.truncate(got as usize);
    Ok(v)
}

fn setxattr(p: &Path, name: &str, value: &[u8], flags: libc::c_int) -> Result<(), i32> {
    let (c, n) = (cstr(p), CString::new(name).unwrap());
    // SAFETY: plain syscall reading NUL-terminated strings and `value`.
    let r = unsafe { libc::setxattr(c.as_ptr(), n.as_ptr(), value.as_ptr().cast(), value.len(), flags) };
    errno_of(r as isize).map_or(Ok(()), Err)
}

fn listxattr(p: &Path, follow: bool) -> Result<BTreeSet<String>, i32> {
    let c = cstr(p);
    let mut v = vec![0u8; 64 << 10];
    // SAFETY: the kernel writes at most `v.len()` bytes into `v`.
    let n = unsafe {
        if follow {
            libc::listxattr(c.as_ptr(), v.as_mut_ptr().cast(), v.len())
        } else {
            libc::llistxattr(c.as_ptr(), v.as_mut_ptr().cast(), v.len())
        }
    };
    if let Some(e) = errno_of(n) {
        return Err(e);
    }
    Ok(v[..n as usize]
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

fn removexattr(p: &Path, name: &str) -> Result<(), i32> {
    let (c, n) = (cstr(p), CString::new(name).unwrap());
    // SAFETY: plain syscall with NUL-terminated strings.
    let r = unsafe { libc::removexattr(c.as_ptr(), n.as_ptr()) };
    errno_of(r as isize).map_or(Ok(()), Err)
}

/// Symlinks, hard links, special files, extended attributes, fallocate, SEEK_DATA/SEEK_HOLE,
/// copy_file_range and flock through the mount, checked against the source tree.
fn exercise_more(src: &Path, mnt: &Path) {
    fs::create_dir(mnt.join("x")).unwrap();
    let data = pattern(10_000, 42);
    fs::write(mnt.join("x/target"), &data).unwrap();

    // Symlinks (SYMLINK, READLINK): relative, absolute, dangling; followed and not.
    std::os::unix::fs::symlink("target", mnt.join("x/rel")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/far/away", mnt.join("x/dangling")).unwrap();
    std::os::unix::fs::symlink(src.join("x/target"), mnt.join("x/abs")).unwrap();
    assert_eq!(fs::read_link(mnt.join("x/rel")).unwrap(), Path::new("target"));
    assert_eq!(fs::read_link(src.join("x/rel")).unwrap(), Path::new("target"));
    assert_eq!(fs::read_link(mnt.join("x/dangling")).unwrap(), Path::new("/nonexistent/far/away"));
    assert_eq!(fs::read_link(mnt.join("x/abs")).unwrap(), src.join("x/target"));
    assert_same_bytes(&src.join("x/target"), &mnt.join("x/rel"), &data);
    assert!(fs::symlink_metadata(mnt.join("x/rel")).unwrap().file_type().is_symlink());
    for l in ["rel", "dangling", "abs"] {
        assert_same_attrs(&src.join("x").join(l), &mnt.join("x").join(l));
    }
    assert_eq!(fs::metadata(mnt.join("x/dangling")).unwrap_err().raw_os_error(), Some(libc::ENOENT));
    // The birth time comes through STATX where the source has one.
    if let Ok(born) = fs::metadata(src.join("x/target")).unwrap().created() {
        assert_eq!(fs::metadata(mnt.join("x/target")).unwrap().created().unwrap(), born, "btime (STATX)");
    }
    // A symlink made in the source shows through the mount.
    std::os::unix::fs::symlink("made-in-source", src.join("x/from_src")).unwrap();
    assert_eq!(fs::read_link(mnt.join("x/from_src")).unwrap(), Path::new("made-in-source"));
    // Symlinks in listings (READDIRPLUS) and renames of links.
    fs::rename(mnt.join("x/rel"), mnt.join("x/rel2")).unwrap();
    assert_eq!(fs::read_link(src.join("x/rel2")).unwrap(), Path::new("target"));
    let kinds: Vec<(String, bool)> = fs::read_dir(mnt.join("x"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), e.file_type().unwrap().is_symlink())
        })
        .collect();
    for (name, link) in &kinds {
        assert_eq!(*link, name != "target", "{name}: symlink = {link} in the listing");
    }

    // Hard links (LINK): same inode, link count, contents shared, one name removed.
    fs::hard_link(mnt.join("x/target"), mnt.join("x/hard")).unwrap();
    let (a, b) = (fs::metadata(mnt.join("x/target")).unwrap(), fs::metadata(mnt.join("x/hard")).unwrap());
    assert_eq!((a.ino(), a.nlink()), (b.ino(), 2), "hard link through the mount");
    assert_eq!(fs::metadata(src.join("x/hard")).unwrap().ino(), fs::metadata(src.join("x/target")).unwrap().ino());
    OpenOptions::new().write(true).open(mnt.join("x/hard")).unwrap().write_all_at(b"HARD", 0).unwrap();
    let mut shared = data.clone();
    shared[..4].copy_from_slice(b"HARD");
    assert_same_bytes(&src.join("x/target"), &mnt.join("x/target"), &shared);
    assert_same_attrs(&src.join("x/hard"), &mnt.join("x/hard"));
    fs::remove_file(mnt.join("x/target")).unwrap();
    assert_same_bytes(&src.join("x/hard"), &mnt.join("x/hard"), &shared);
    assert_eq!(fs::metadata(mnt.join("x/hard")).unwrap().nlink(), 1);
    assert_eq!(fs::hard_link(mnt.join("x/hard"), mnt.join("x/hard")).unwrap_err().raw_os_error(), Some(libc::EEXIST));
    // A hard link to a symlink links the symlink itself.
    fs::hard_link(mnt.join("x/dangling"), mnt.join("x/dangling2")).unwrap();
    assert_eq!(fs::read_link(src.join("x/dangling2")).unwrap(), Path::new("/nonexistent/far/away"));
    assert_eq!(fs::symlink_metadata(mnt.join("x/dangling2")).unwrap().nlink(), 2);

    // Special files (MKNOD): a FIFO, a character device, a socket node.
    let fifo = mnt.join("x/fifo");
    // SAFETY: plain syscalls with NUL-terminated paths.
    os_err("mkfifo", unsafe { libc::mkfifo(cstr(&fifo).as_ptr(), 0o640) });
    let dev = mnt.join("x/null");
    // SAFETY: as above.
    os_err("mknod c 1 3", unsafe { libc::mknod(cstr(&dev).as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) });
    let big = mnt.join("x/bigdev");
    // SAFETY: as above (major and minor past 8 bits: the FUSE encoding of rdev).
    os_err("mknod c 300 70000", unsafe {
        libc::mknod(cstr(&big).as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(300, 70000))
    });
    let sock = mnt.join("x/sock");
    // SAFETY: as above.
    os_err("mknod s", unsafe { libc::mknod(cstr(&sock).as_ptr(), libc::S_IFSOCK | 0o600, 0) });
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(src.join("x/fifo")).unwrap().file_type().is_fifo());
    assert!(fs::symlink_metadata(mnt.join("x/sock")).unwrap().file_type().is_socket());
    for n in ["fifo", "null", "bigdev", "sock"] {
        assert_same_attrs(&src.join("x").join(n), &mnt.join("x").join(n));
        let (s, m) = (
            fs::symlink_metadata(src.join("x").join(n)).unwrap(),
            fs::symlink_metadata(mnt.join("x").join(n)).unwrap(),
        );
        assert_eq!(s.rdev(), m.rdev(), "{n}: rdev");
    }
    assert_eq!(fs::metadata(&dev).unwrap().rdev(), libc::makedev(1, 3));
    // The FIFO works through the mount: a writer and a reader meet in the kernel.
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::write(fifo, b"through the fifo").unwrap())
    };
    assert_eq!(fs::read(&fifo).unwrap(), b"through the fifo");
    writer.join().unwrap();
    // The mount is `nodev`: the device node cannot be opened through it.
    assert_eq!(File::options().write(true).open(&dev).unwrap_err().raw_os_error(), Some(libc::EACCES));

    // Extended attributes (SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR).
    let f = mnt.join("x/hard");
    let d = mnt.join("x");
    setxattr(&f, "user.one", b"1", 0).unwrap();
    setxattr(&f, "user.two", &pattern(3000, 9), 0).unwrap();
    setxattr(&d, "user.dir", b"on a directory", 0).unwrap();
    assert_eq!(getxattr(&f, "user.one").unwrap(), b"1");
    assert_eq!(getxattr(&f, "user.two").unwrap(), pattern(3000, 9));
    assert_eq!(getxattr(&src.join("x/hard"), "user.two").unwrap(), pattern(3000, 9), "xattr in the source");
    assert_eq!(getxattr(&d, "user.dir").unwrap(), b"on a directory");
    let want: BTreeSet<String> = ["user.one", "user.two"].iter().map(|s| s.to_string()).collect();
    assert_eq!(listxattr(&f, true).unwrap(), want);
    assert_eq!(setxattr(&f, "user.one", b"x", libc::XATTR_CREATE), Err(libc::EEXIST));
    assert_eq!(setxattr(&f, "user.none", b"x", libc::XATTR_REPLACE), Err(libc::ENODATA));
    assert_eq!(getxattr(&f, "user.none"), Err(libc::ENODATA));
    // A buffer too small for the value: ERANGE.
    let (c, n) = (cstr(&f), CString::new("user.two").unwrap());
    let mut small = [0u8; 10];
    // SAFETY: the kernel writes at most 10 bytes into `small`.
    let r = unsafe { libc::getxattr(c.as_ptr(), n.as_ptr(), small.as_mut_ptr().cast(), small.len()) };
    assert_eq!(errno_of(r), Some(libc::ERANGE));
    setxattr(&f, "user.one", b"replaced", libc::XATTR_REPLACE).unwrap();
    assert_eq!(getxattr(&src.join("x/hard"), "user.one").unwrap(), b"replaced");
    removexattr(&f, "user.one").unwrap();
    assert_eq!(removexattr(&f, "user.one"), Err(libc::ENODATA));
    assert_eq!(listxattr(&src.join("x/hard"), true).unwrap().len(), 1);
    // A symlink's own attributes are out of reach (as with libfuse's passthrough_hp).
    assert_eq!(listxattr(&mnt.join("x/dangling"), false), Err(libc::EOPNOTSUPP));

    // fallocate, SEEK_DATA and SEEK_HOLE, punching a hole: the mount answers as the source.
    let sparse = mnt.join("x/sparse");
    let fd = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&sparse).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    // SAFETY: plain syscalls on an open file.
    os_err("fallocate", unsafe { libc::fallocate(raw, 0, 0, 4 << 20) });
    assert_eq!(fs::metadata(src.join("x/sparse")).unwrap().len(), 4 << 20);
    fd.write_all_at(&pattern(8192, 3), 1 << 20).unwrap();
    fd.sync_all().unwrap();
    // SAFETY: as above.
    os_err("punch", unsafe {
        libc::fallocate(raw, libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, 0, 1 << 20)
    });
    assert_eq!(fs::metadata(&sparse).unwrap().len(), 4 << 20);
    assert_same_attrs(&src.join("x/sparse"), &sparse);
    let sfd = File::open(src.join("x/sparse")).unwrap();
    let seek = |f: &File, off: i64, whence: libc::c_int| {
        // SAFETY: plain syscall on an open file.
        unsafe { libc::lseek(std::os::fd::AsRawFd::as_raw_fd(f), off, whence) }
    };
    for off in [0, 4096, 1 << 20, (1 << 20) + 8192, 3 << 20] {
        for whence in [libc::SEEK_DATA, libc::SEEK_HOLE] {
            assert_eq!(seek(&fd, off, whence), seek(&sfd, off, whence), "lseek({off}, {whence}) mount vs source");
        }
    }
    drop(fd);

    // copy_file_range between two files of the mount.
    let (from, to) = (
        File::open(&sparse).unwrap(),
        OpenOptions::new().write(true).create_new(true).open(mnt.join("x/copy")).unwrap(),
    );
    let (mut off_in, mut off_out) = (1i64 << 20, 0i64);
    // SAFETY: plain syscall on open files with offsets in locals.
    let n = unsafe {
        libc::copy_file_range(
            std::os::fd::AsRawFd::as_raw_fd(&from),
            &mut off_in,
            std::os::fd::AsRawFd::as_raw_fd(&to),
            &mut off_out,
            8192,
            0,
        )
    };
    assert_eq!(n, 8192, "copy_file_range: {}", std::io::Error::last_os_error());
    drop((from, to));
    assert_same_bytes(&src.join("x/copy"), &mnt.join("x/copy"), &pattern(8192, 3));

    // flock: a second open file waits for the first's exclusive lock; the server goes on
    // serving meanwhile (the wait does not hold up its threads), and the unlock ends it.
    let holder = File::open(mnt.join("x/copy")).unwrap();
    // SAFETY: plain syscall on an open file.
    os_err("flock LOCK_EX", unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&holder), libc::LOCK_EX) });
    let other = File::open(mnt.join("x/copy")).unwrap();
    // SAFETY: as above.
    let r = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&other), libc::LOCK_SH | libc::LOCK_NB) };
    assert_eq!(errno_of(r as isize), Some(libc::EWOULDBLOCK), "LOCK_NB on a locked file");
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        // SAFETY: as above.
        let r = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&other), libc::LOCK_SH) };
        tx.send(r).unwrap();
        other
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(rx.try_recv().is_err(), "LOCK_SH did not wait for LOCK_EX");
    // Requests keep flowing on every queue while the lock waits.
    for i in 0..64 {
        fs::write(mnt.join(format!("x/during-{i}")), b"served").unwrap();
        fs::remove_file(mnt.join(format!("x/during-{i}"))).unwrap();
    }
    // SAFETY: as above.
    os_err("flock LOCK_UN", unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&holder), libc::LOCK_UN) });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)).expect("LOCK_SH still waiting after the unlock"), 0);
    let other = waiter.join().unwrap();

    // A signal to the waiting caller: the kernel sends INTERRUPT, the server breaks the wait,
    // and flock fails with EINTR (instead of waiting on until the lock is free).
    extern "C" fn nothing(_: libc::c_int) {}
    // SAFETY: a handler that does nothing, installed without SA_RESTART.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = nothing as extern "C" fn(libc::c_int) as usize;
        libc::sigaction(libc::SIGUSR2, &sa, core::ptr::null_mut());
    }
    // SAFETY: plain syscalls on open files.
    os_err("flock LOCK_UN", unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&other), libc::LOCK_UN) });
    // SAFETY: as above.
    os_err("flock LOCK_EX", unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&holder), libc::LOCK_EX) });
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        // SAFETY: no preconditions.
        tx.send(unsafe { libc::pthread_self() } as usize).unwrap();
        // SAFETY: plain syscall on an open file.
        let r = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&other), libc::LOCK_EX) };
        (r, std::io::Error::last_os_error().raw_os_error())
    });
    let thread = rx.recv().unwrap() as libc::pthread_t;
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: the thread is alive: it is joined below, after the signal.
    unsafe { libc::pthread_kill(thread, libc::SIGUSR2) };
    let started = Instant::now();
    let (r, errno) = waiter.join().unwrap();
    assert_eq!((r, errno), (-1, Some(libc::EINTR)), "flock after a signal");
    assert!(started.elapsed() < Duration::from_secs(5), "the interrupted flock took {:?}", started.elapsed());
    drop(holder);

    fs::remove_dir_all(mnt.join("x")).unwrap();
    assert!(names(src).is_empty(), "source not empty at the end");
}

/// Starts a server in `mode` (`Y`/`N` for `enable_uring`) with `args`, or says why not.
fn start_or_skip(test: &str, param: &str, tag: &str, args: &[&str]) -> Option<(ParamGuard, Server)> {
    if let Some(why) = unsupported() {
        common::skip(test, why);
        return None;
    }
    let bin = match build_server() {
        Ok(b) => b,
        Err(why) => {
            common::skip(test, why);
            return None;
        }
    };
    let param = ParamGuard::set(param).unwrap();
    let srv = Server::start(&bin, tag, args, Duration::from_secs(300));
    Some((param, srv))
}

/// Symlinks, hard links, mknod, xattrs, fallocate/lseek/copy_file_range and flock over
/// io_uring (buffer pools where the kernel offers them: Linux 7.3).
#[test]
fn links_nodes_xattrs_over_io_uring() {
    const TEST: &str = "links_nodes_xattrs_over_io_uring";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some((_param, mut srv)) = start_or_skip(TEST, "Y", "more-uring", &["--queue-depth", "4"]) else { return };
    let ready = srv.ready_line().unwrap();
    assert_eq!(field(&ready, "mode"), "uring", "{ready}");
    exercise_more(&srv.src.clone(), &srv.mnt.clone());
    assert!(!srv.stderr_text().contains("not implemented"), "unhandled requests: {}", srv.stderr_text());
    let stats = srv.stop();
    assert_eq!(num(&stats, "devfuse_other"), 0, "{stats}");
    common::note(TEST, format!("{ready}; {stats}"));
}

/// The same over `/dev/fuse` read/write.
#[test]
fn links_nodes_xattrs_over_devfuse() {
    const TEST: &str = "links_nodes_xattrs_over_devfuse";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some((_param, mut srv)) = start_or_skip(TEST, "N", "more-devfuse", &[]) else { return };
    exercise_more(&srv.src.clone(), &srv.mnt.clone());
    assert!(!srv.stderr_text().contains("not implemented"), "unhandled requests: {}", srv.stderr_text());
    let stats = srv.stop();
    assert_eq!(field(&stats, "mode"), "devfuse");
    common::note(TEST, stats);
}

/// `--passthrough` (FUSE_PASSTHROUGH): reads and writes of open files bypass the server; and
/// `--writeback`: buffered writes gather in the kernel. Both keep the bytes right.
#[test]
fn passthrough_and_writeback_modes() {
    const TEST: &str = "passthrough_and_writeback_modes";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for (flag, key) in [("--passthrough", "passthrough"), ("--writeback", "writeback")] {
        let Some((_param, mut srv)) = start_or_skip(TEST, "Y", key, &[flag]) else { return };
        let ready = srv.ready_line().unwrap();
        let (src, mnt) = (srv.src.clone(), srv.mnt.clone());
        let data = pattern((4 << 20) + 3, 11);
        fs::write(mnt.join("f"), &data).unwrap();
        // Two opens of one inode (the kernel needs them to share one backing file), a
        // write-only one among them (the writeback cache reads pages around partial writes).
        let wo = OpenOptions::new().write(true).open(mnt.join("f")).unwrap();
        let ro = File::open(mnt.join("f")).unwrap();
        wo.write_all_at(b"partial", 4097).unwrap();
        wo.sync_all().unwrap();
        let mut want = data.clone();
        want[4097..4104].copy_from_slice(b"partial");
        let mut back = vec![0u8; 16];
        ro.read_exact_at(&mut back, 4093).unwrap();
        assert_eq!(back, want[4093..4109], "{flag}: read through a second open file");
        drop((wo, ro));
        OpenOptions::new().append(true).open(mnt.join("f")).unwrap().write_all(b"appended").unwrap();
        want.extend_from_slice(b"appended");
        assert_same_bytes(&src.join("f"), &mnt.join("f"), &want);
        let stats = srv.stop();
        if field(&ready, key) == "true" {
            common::note(TEST, format!("{flag}: {ready}; {stats}"));
        } else {
            common::note(TEST, format!("{flag}: the kernel did not offer it (ran without): {ready}"));
        }
    }
}

/// The queue ring's other setups (`--ring-setup coop`, `plain`) and bounded busy polling
/// (`--spin-us`) serve requests over io_uring, with the bytes right.
#[test]
fn ring_setups_and_busy_polling() {
    const TEST: &str = "ring_setups_and_busy_polling";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    for (args, key) in [
        (&["--ring-setup", "coop"][..], "coop"),
        (&["--ring-setup", "plain"][..], "plain"),
        (&["--spin-us", "50", "--direct-io"][..], "spin"),
    ] {
        let Some((_param, mut srv)) = start_or_skip(TEST, "Y", key, args) else { return };
        let ready = srv.ready_line().unwrap();
        assert_eq!(field(&ready, "mode"), "uring", "{args:?}: {ready}");
        match key {
            "spin" => assert_eq!(field(&ready, "spin_us"), "50", "{ready}"),
            setup => assert_eq!(field(&ready, "ring_setup"), setup, "{ready}"),
        }
        let (src, mnt) = (srv.src.clone(), srv.mnt.clone());
        let data = pattern((1 << 20) + 5, 3);
        fs::write(mnt.join("f"), &data).unwrap();
        let f = File::open(mnt.join("f")).unwrap();
        let mut back = vec![0u8; 4096];
        for off in [0u64, 4096 * 7, (1 << 20) - 4096] {
            f.read_exact_at(&mut back, off).unwrap();
            assert_eq!(back, data[off as usize..off as usize + 4096], "{args:?}: read at {off}");
        }
        drop(f);
        assert_same_bytes(&src.join("f"), &mnt.join("f"), &data);
        let stats = srv.stop();
        assert_eq!(num(&stats, "devfuse_other"), 0, "{args:?}: {stats}");
        assert!(num(&stats, "uring_requests") > 5, "{args:?}: {stats}");
        common::note(TEST, format!("{args:?}: {stats}"));
    }
}

/// A mount point that still holds a dead FUSE mount (its server killed) is refused with a
/// message that says so, instead of being mounted over.
#[test]
fn refuses_a_dead_mount() {
    const TEST: &str = "refuses_a_dead_mount";
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some((_param, mut srv)) = start_or_skip(TEST, "Y", "dead", &[]) else { return };
    let bin = build_server().unwrap();
    let mut child = srv.child.take().unwrap();
    // SAFETY: plain syscall on our unreaped child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
    assert!(is_fuse_mounted(&srv.mnt), "the killed server's mount should still be there");
    let out = Command::new(&bin).arg(&srv.src).arg(&srv.mnt).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second server started on a dead mount: {stderr}");
    assert!(stderr.contains("server is gone"), "no dead-mount message: {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("READY"));
    // Only the dead mount is there (nothing was stacked on it); the guard removes it.
    let count = fs::read_to_string("/proc/self/mounts")
        .unwrap()
        .lines()
        .filter(|l| l.split(' ').nth(1) == Some(&*srv.mnt.to_string_lossy()))
        .count();
    assert_eq!(count, 1, "mounts at {}", srv.mnt.display());
}
