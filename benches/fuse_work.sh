# Sourced by the FUSE benchmarks (fuse_fio.sh, fuse_libfuse.sh, fuse_latency.sh), from the
# repository root: the work directory (source tree and mount point) and the cleanup every run
# ends with. Needs WORKDIR and PARAM (the fuse module's enable_uring parameter).
# Usage: fuse_work NAME   sets WORK, SRC, MNT, OLD_PARAM and SPID (the server's pid, "" until
# one is started) and installs the traps.
fuse_work() {
    WORK=$(mktemp -d "$WORKDIR/$1.XXXXXX")
    SRC=$WORK/src
    MNT=$WORK/mnt
    mkdir -p "$SRC" "$MNT"
    OLD_PARAM=$(cat "$PARAM" 2>/dev/null || echo "")
    SPID=""
    trap fuse_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Stops the server, unmounts, restores enable_uring, and removes the work directory unless
# the mount is still there (removing it would then reach through the mount).
fuse_cleanup() {
    if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
        kill -TERM "$SPID" 2>/dev/null || true
        sleep 2
        kill -KILL "$SPID" 2>/dev/null || true
    fi
    if grep -q " $MNT fuse" /proc/mounts; then
        umount -l "$MNT" || true
    fi
    if [ -n "$OLD_PARAM" ] && [ -e "$PARAM" ]; then
        echo "$OLD_PARAM" >"$PARAM" || true
    fi
    if ! grep -q " $MNT " /proc/mounts; then
        rm -rf "$WORK"
    fi
}
