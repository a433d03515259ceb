# Shared by tests/kernels/run and tests/kernels/runner (sourced, not run): tools, the Debian
# kernels, the initramfs and one qemu boot.
# shellcheck shell=bash

KTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KTEST_ROOT=$(cd "$KTEST_DIR/../.." && pwd)
KTEST_CACHE=${KTEST_CACHE:-$KTEST_ROOT/target/kernels}
# Seconds one test binary may run in the guest before it is killed.
KTEST_TIMEOUT=${KTEST_TIMEOUT:-120}
# Seconds of console silence after which a guest is taken as hung and stopped.
KTEST_IDLE=${KTEST_IDLE:-$((KTEST_TIMEOUT + 60))}
# Seconds of silence before /init has started (a quiet boot takes about 4 s under TCG).
KTEST_BOOT_IDLE=${KTEST_BOOT_IDLE:-90}
# Hard limit on one boot, in seconds.
KTEST_BOOT_TIMEOUT=${KTEST_BOOT_TIMEOUT:-3600}
KTEST_MEM=${KTEST_MEM:-2G}
KTEST_SMP=${KTEST_SMP:-2}
# 1: attach an ext4 scratch disk for TMPDIR; 0: TMPDIR on tmpfs.
KTEST_DISK=${KTEST_DISK:-1}
# Extra kernel command line.
KTEST_APPEND=${KTEST_APPEND:-}
# Modules loaded in a Debian kernel's guest (with their dependencies), from its linux-modules
# package: loop, as on a usual host (the block-device tests attach loop devices).
KTEST_MODULES=${KTEST_MODULES-loop}

# The Debian kernels of the matrix: package, version, suite.
KTEST_DEBIAN_KERNELS=(
    "linux-binary-7.2.13+deb14-cloud-amd64 7.2.13-1 sid"
    "linux-binary-7.3.4+deb13-cloud-amd64 7.3.4-1~bpo13+1 trixie-backports"
)

ktest_say() { printf '%s\n' "kernels: $*" >&2; }
ktest_die() {
    printf '%s\n' "kernels: ERROR: $*" >&2
    exit 2
}

# Installs the Debian packages of the tools that are missing.
ktest_tools() {
    local need=()
    command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
    [ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null)" = installed ] || need+=(busybox-static)
    command -v cpio >/dev/null || need+=(cpio)
    command -v gzip >/dev/null || need+=(gzip)
    command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
    command -v strip >/dev/null && command -v readelf >/dev/null || need+=(binutils)
    command -v jq >/dev/null || need+=(jq)
    command -v timeout >/dev/null || need+=(coreutils)
    command -v xz >/dev/null || need+=(xz-utils)
    command -v modinfo >/dev/null || [ -x /sbin/modinfo ] || need+=(kmod)
    [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
    [ ${#need[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || ktest_die "missing packages: ${need[*]} (apt-get install ${need[*]} as root)"
    ktest_say "installing ${need[*]}"
    apt-get update -q >/dev/null || ktest_die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null ||
        ktest_die "apt-get install ${need[*]} failed"
}

# The Debian mirror this machine's apt uses: KTEST_MIRROR if set, else the first URI of a
# non-security "deb" source in /etc/apt (deb822 .sources first, then one-line .list files).
ktest_mirror() {
    if [ -n "${KTEST_MIRROR:-}" ]; then
        echo "$KTEST_MIRROR"
        return
    fi
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; suites = ""; types = ""
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", line); uris = line }
                    else if (line ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", line); suites = line }
                    else if (line ~ /^Types:/) { sub(/^Types:[ \t]*/, "", line); types = " " line " " }
                    else if (line ~ /^Enabled:[ \t]*no/) { types = "" }
                }
                if (types ~ / deb / && uris != "" && suites !~ /-security/) {
                    split(uris, u, /[ \t]+/); print u[1]; exit
                }
            }' "$f")
        if [ -n "$uri" ]; then
            echo "$uri"
            return
        fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1 == "deb" {
                i = 2
                if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) !~ /-security/) { print $i; exit }
            }' "$f")
        if [ -n "$uri" ]; then
            echo "$uri"
            return
        fi
    done
    return 1
}

# apt-get with a private state under $KTEST_CACHE/apt: the machine's sources stay untouched.
ktest_apt() {
    local a=$KTEST_CACHE/apt
    apt-get -q -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" -o APT::Sandbox::User=root "$@"
}

# The kernel release a Debian kernel package carries (linux-binary-REL -> REL).
ktest_debian_release() { echo "${1#linux-binary-}"; }

# Downloads the Debian kernels that are not cached yet; each ends as
# $KTEST_CACHE/<release>/vmlinuz and .../modules/ (the linux-modules package's tree), with the
# package version in .../version.
ktest_fetch_debian() {
    local entry pkg ver suite rel dir missing=() suites=()
    for entry in "${KTEST_DEBIAN_KERNELS[@]}"; do
        read -r pkg ver suite <<<"$entry"
        dir=$KTEST_CACHE/$(ktest_debian_release "$pkg")
        if [ -s "$dir/vmlinuz" ] && [ -d "$dir/modules" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$ver" ]; then
            continue
        fi
        missing+=("$entry")
        [[ " ${suites[*]} " == *" $suite "* ]] || suites+=("$suite")
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    local mirror a=$KTEST_CACHE/apt keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    mirror=$(ktest_mirror) || ktest_die "no Debian mirror found in /etc/apt (set KTEST_MIRROR)"
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/debs"
    : >"$a/sources.list"
    for suite in "${suites[@]}"; do
        echo "deb [signed-by=$keyring] $mirror $suite main" >>"$a/sources.list"
    done
    ktest_say "apt-get update (private state in $a) for: ${suites[*]}"
    ktest_apt update >"$a/update.log" 2>&1 || {
        cat "$a/update.log" >&2
        ktest_die "apt-get update of the kernel suites failed"
    }
    grep -E '^(W|E):' "$a/update.log" >&2 || true
    for entry in "${missing[@]}"; do
        read -r pkg ver suite <<<"$entry"
        rel=$(ktest_debian_release "$pkg")
        local mpkg=linux-modules-$rel deb f x img='' mods=''
        ktest_say "downloading $pkg=$ver and $mpkg ($suite)"
        rm -f "$a/debs/"*.deb
        (cd "$a/debs" && ktest_apt download "$pkg=$ver" "$mpkg=$ver") >"$a/download.log" 2>&1 || {
            cat "$a/download.log" >&2
            ktest_die "apt-get download $pkg=$ver $mpkg=$ver failed"
        }
        x=$(mktemp -d "$a/x.XXXXXX")
        for deb in "$a/debs/"*.deb; do
            [ -f "$deb" ] || ktest_die "apt-get download $pkg=$ver left no .deb"
            dpkg -x "$deb" "$x" || ktest_die "dpkg -x $deb failed"
        done
        for f in "$x"/usr/lib/modules/*/vmlinuz "$x"/boot/vmlinuz-*; do [ -f "$f" ] && img=$f; done
        [ -n "$img" ] || ktest_die "no vmlinuz in $pkg"
        for f in "$x"/usr/lib/modules/*/kernel "$x"/lib/modules/*/kernel; do [ -d "$f" ] && mods=$f; done
        [ -n "$mods" ] || ktest_die "no modules in $mpkg"
        rm -rf "${KTEST_CACHE:?}/$rel"
        mkdir -p "$KTEST_CACHE/$rel"
        mv "$img" "$KTEST_CACHE/$rel/vmlinuz"
        mv "$mods" "$KTEST_CACHE/$rel/modules"
        echo "$ver" >"$KTEST_CACHE/$rel/version"
        rm -rf "$x" "$a/debs/"*.deb
    done
}

# A gzip'd cpio holding /modules/<name>.ko for KTEST_MODULES and their dependencies, and
# /modules/order (load order), for the kernel whose image is $1; prints its path, or nothing
# when the kernel has no module tree beside it (a kernel the user supplies) or none is wanted.
ktest_modules_cpio() {
    local kdir mods=${KTEST_MODULES:-}
    kdir=$(dirname "$1")
    [ -n "$mods" ] && [ -d "$kdir/modules" ] || return 0
    local out
    out=$kdir/modules-$(echo $mods | tr ' ' '+').cpio.gz
    if [ -s "$out" ]; then
        echo "$out"
        return
    fi
    local st order=() m
    st=$(mktemp -d "$kdir/modules-stage.XXXXXX")
    mkdir -p "$st/modules"
    ktest_module() {
        local name=${1//-/_} f='' dep
        [[ " ${order[*]-} " == *" $name "* ]] && return 0
        f=$(find "$kdir/modules" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) -print -quit)
        [ -n "$f" ] || ktest_die "module $name is not in $kdir/modules"
        case "$f" in
        *.xz) xz -dc "$f" >"$st/modules/$name.ko" ;;
        *.zst) zstd -qdc "$f" >"$st/modules/$name.ko" ;;
        *.gz) gzip -dc "$f" >"$st/modules/$name.ko" ;;
        *) cp "$f" "$st/modules/$name.ko" ;;
        esac || ktest_die "cannot unpack $f"
        for dep in $(PATH=$PATH:/sbin:/usr/sbin modinfo -F depends "$st/modules/$name.ko" | tr ',' ' '); do
            ktest_module "$dep"
        done
        order+=("$name")
    }
    for m in $mods; do ktest_module "$m"; done
    printf '%s\n' "${order[@]}" >"$st/modules/order"
    ktest_cpio "$st" "$out" || ktest_die "cpio of the modules failed"
    rm -rf "$st"
    echo "$out"
}

# Resolves a kernel given as a file or as (part of) the name of a cached kernel ("7.3").
ktest_resolve_kernel() {
    local k=$1 m
    if [ -f "$k" ]; then
        echo "$k"
        return
    fi
    m=$(ls -d "$KTEST_CACHE"/*"$k"*/vmlinuz 2>/dev/null || true)
    [ -n "$m" ] || ktest_die "no kernel '$k': not a file, nor a cached kernel in $KTEST_CACHE (tests/kernels/run --fetch)"
    [ "$(echo "$m" | wc -l)" = 1 ] || ktest_die "'$k' names several cached kernels: $(echo "$m" | tr '\n' ' ')"
    echo "$m"
}

# Writes a gzip'd newc cpio of the directory $1 to $2.
ktest_cpio() {
    (cd "$1" && find . -print | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$2.tmp" &&
        mv "$2.tmp" "$2"
}

# The base initramfs (static busybox + /init), rebuilt when the /init template changes.
ktest_base_initrd() {
    local out=$KTEST_CACHE/base.cpio.gz
    if [ -s "$out" ] && [ "$out" -nt "$KTEST_DIR/init" ] && [ "$out" -nt /bin/busybox ]; then
        echo "$out"
        return
    fi
    mkdir -p "$KTEST_CACHE"
    local d
    d=$(mktemp -d "$KTEST_CACHE/base.XXXXXX")
    mkdir -p "$d/bin"
    cp /bin/busybox "$d/bin/busybox"
    install -m 755 "$KTEST_DIR/init" "$d/init"
    ktest_cpio "$d" "$out" || ktest_die "cpio of the base initramfs failed"
    rm -rf "$d"
    echo "$out"
}

# Whether $1 is a static executable (no program interpreter), as the busybox guest needs.
ktest_is_static() { ! readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; }

# Adds job number $2 to the payload tree $1: binary $3, name $4, arguments $5...
ktest_add_job() {
    local dir=$1/payload/jobs/$(printf '%03d' "$2") bin=$3 name=$4
    shift 4
    mkdir -p "$dir"
    # Debug info off (symbols stay, for backtraces): a third of the size.
    strip -g -o "$dir/bin" "$bin" 2>/dev/null || cp "$bin" "$dir/bin"
    chmod 755 "$dir/bin"
    echo "$name" >"$dir/name"
    : >"$dir/args"
    local a
    for a in "$@"; do printf '%s\n' "$a" >>"$dir/args"; done
}

# Writes the payload's /payload/conf into the tree $1.
ktest_conf() {
    mkdir -p "$1/payload"
    {
        echo "KTEST_TIMEOUT=$KTEST_TIMEOUT"
        echo "KTEST_DISK=$KTEST_DISK"
        printf 'KTEST_ENV=%q\n' "${KTEST_ENV:-}"
    } >"$1/payload/conf"
}

ktest_host_line() {
    printf '%s\n' "$3" >>"$1"
    "$2" "$3"
}

# Boots kernel $1 with initrd $2, writing the console (carriage returns dropped) to the log
# $3 and handing each line to the function $4. Returns 0 when the guest printed its DONE marker,
# 3 when it died before /init started (a boot flake: worth one more try), 1 otherwise.
ktest_boot() {
    local kernel=$1 initrd=$2 log=$3 on_line=${4:-:}
    local work disk fifo qpid line rc stopped=0 idle=$KTEST_BOOT_IDLE
    work=$(mktemp -d "${TMPDIR:-/tmp}/ktest.XXXXXX")
    fifo=$work/console
    mkfifo "$fifo"
    # One NVMe controller (NVMe and ext4 are built into the cloud kernels) with two namespaces:
    # nsid 1 an empty ext4 filesystem for TMPDIR, nsid 2 a raw disk of zeros for the tests
    # that drive a device (NVMe passthrough). Both are sparse files, fresh for every boot.
    local drive=()
    if [ "$KTEST_DISK" = 1 ]; then
        disk=$work/scratch.img
        truncate -s 2G "$disk"
        mkfs.ext4 -q -F -L ktest-scratch "$disk" >/dev/null 2>&1 || ktest_die "mkfs.ext4 of the scratch disk failed"
        truncate -s 256M "$work/raw.img"
        drive=(-device "nvme,id=nvme0,serial=ktest"
            -drive "file=$disk,if=none,id=scratch,format=raw,cache=unsafe"
            -device "nvme-ns,drive=scratch,bus=nvme0,nsid=1"
            -drive "file=$work/raw.img,if=none,id=raw,format=raw,cache=unsafe"
            -device "nvme-ns,drive=raw,bus=nvme0,nsid=2")
    fi
    # TCG, one host thread for both vCPUs: multi-threaded TCG sometimes panics the guest while the
    # kernel patches its own code (int3 in static-key updates), and is no faster here.
    timeout -k 10 "$KTEST_BOOT_TIMEOUT" qemu-system-x86_64 \
        -accel tcg,thread=single -cpu max -smp "$KTEST_SMP" -m "$KTEST_MEM" \
        -nodefaults -no-user-config -display none -serial stdio -no-reboot \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 quiet panic=-1 $KTEST_APPEND" \
        "${drive[@]}" </dev/null >"$fifo" 2>&1 &
    qpid=$!
    : >"$log"
    while :; do
        line=
        if IFS= read -r -t "$idle" line; then
            :
        else
            rc=$?
            if [ "$rc" -gt 128 ]; then
                # Silence for KTEST_IDLE seconds: the guest hangs. Stop it, then drain to EOF.
                [ -n "$line" ] && printf '%s\n' "${line%$'\r'}" >>"$log"
                if [ "$stopped" = 0 ]; then
                    stopped=1
                    ktest_host_line "$log" "$on_line" "@@KTEST HOST no output for ${idle}s: guest stopped"
                    kill "$qpid" 2>/dev/null
                fi
                continue
            fi
            [ -n "$line" ] || break
        fi
        line=${line%$'\r'}
        [[ "$line" == "@@KTEST KERNEL "* ]] && idle=$KTEST_IDLE
        printf '%s\n' "$line" >>"$log"
        "$on_line" "$line"
    done <"$fifo"
    wait "$qpid"
    rc=$?
    rm -rf "$work"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        ktest_host_line "$log" "$on_line" "@@KTEST HOST boot exceeded ${KTEST_BOOT_TIMEOUT}s: guest stopped"
    elif [ "$rc" != 0 ]; then
        ktest_host_line "$log" "$on_line" "@@KTEST HOST qemu exited with status $rc"
    fi
    if grep -q '^@@KTEST DONE$' "$log"; then
        return 0
    elif ! grep -q '^@@KTEST KERNEL ' "$log"; then
        return 3
    fi
    return 1
}
