# Parses the console log of one kernel's run (marker lines: see init) into one TSV row per test:
#   binary <TAB> test <TAB> pass|fail|skip|ignored|note <TAB> detail
# A test that passed after printing "SKIPPED <test>: <why>" is a skip, with <why> as detail. A
# binary that failed outside any test (crash, timeout, the guest dying) gets a "fail" row with
# test "-". "note" rows are SKIPPED lines that match no test. The output of failed tests goes to
# the file `failfile`, the kernel's warnings to `dmesgfile` (awk -v).
# Written for any POSIX awk (Debian's default is mawk).

function reset_bin(name) {
    bin = name; inbin = 1; pending = ""; capture = ""; n = 0; nl = 0
    split("", res); split("", order); split("", skipw); split("", skipp); split("", fout)
    split("", noresult); split("", info); split("", lasts)
}

function result(t, r) {
    if (!(t in res)) order[++n] = t
    if (r ~ /^ok/) res[t] = "pass"
    else if (r ~ /^FAILED/) res[t] = "fail"
    else if (r ~ /^ignored/) { res[t] = "ignored"; info[t] = r }
    else { res[t] = "fail"; info[t] = r }
}

function add(arr, k, v) {
    if (k in arr) arr[k] = arr[k] "; " v
    else arr[k] = v
}

function row(t, o, d) {
    gsub(/\t/, " ", d)
    printf "%s\t%s\t%s\t%s\n", bin, t, o, d
}

# The panic line of a failed test's output and up to three lines of its message.
function panic_of(text,   m, i, j, line, r, l) {
    m = split(text, line, "\n")
    for (i = 1; i <= m; i++) {
        if (line[i] ~ /panicked at /) {
            r = line[i]; sub(/^.*panicked at /, "panicked at ", r)
            for (j = i + 1; j <= m && j <= i + 3; j++) {
                l = line[j]; sub(/^ +/, "", l)
                if (l == "" || l ~ /^(stack backtrace:|note: )/) break
                r = r " | " l
            }
            return r
        }
    }
    return ""
}

function finish_bin(status,   i, t, o, d, short, failed, k, why, tailtext) {
    if (!inbin) return
    tailtext = ""
    for (i = (nl > 40 ? nl - 40 : 0); i < nl; i++) tailtext = tailtext lasts[i % 40] "\n"
    if (pending != "" && !(pending in res)) {
        order[++n] = pending; res[pending] = "fail"; noresult[pending] = 1
    }
    if (status == "137" || status == "124") why = "killed after the per-binary timeout (exit " status ")"
    else if (status == "died") why = "the guest died or hung while it ran"
    else why = "exit status " status
    failed = 0
    for (i = 1; i <= n; i++) {
        t = order[i]; o = res[t]; d = ""
        short = t; sub(/.*::/, "", short)
        if (o == "pass") {
            if (t in skipw) d = skipw[t]
            else if (short in skipw) d = skipw[short]
            else if (t in skipp) d = skipp[t]
            if (d != "") o = "skip"
        } else if (o == "ignored") {
            d = info[t]; sub(/^ignored,? */, "", d)
        } else {
            failed++
            if (t in noresult) {
                d = "no result: " why
                printf "== %s %s::%s (no result: %s); the last output:\n%s\n", kernel, bin, t, why, tailtext >>failfile
            } else {
                d = (t in fout) ? panic_of(fout[t]) : info[t]
                printf "== %s %s::%s\n%s\n", kernel, bin, t, (t in fout) ? fout[t] : "(no output)" >>failfile
            }
        }
        used[t] = 1; used[short] = 1
        row(t, o, d)
    }
    for (k in skipw) if (!(k in used)) row(k, "note", skipw[k])
    split("", used)
    if (status != "0" && !failed) {
        row("-", "fail", why)
        printf "== %s %s (%s); the last output:\n%s\n", kernel, bin, why, tailtext >>failfile
    }
    inbin = 0
}

{
    sub(/\r$/, "")
    # A marker glued to a line a killed test left unfinished ("test x ... @@KTEST END ..."):
    # the text before it first, then the marker.
    i = index($0, "@@KTEST ")
    if (i > 1) {
        handle(substr($0, 1, i - 1))
        handle(substr($0, i))
    } else handle($0)
}

function handle(line,   st, t, rest, s, k, why) {
    if (line ~ /^@@KTEST BEGIN /) { finish_bin("died"); reset_bin(substr(line, 15)); return }
    if (line ~ /^@@KTEST END /) {
        st = line; sub(/^.* status=/, "", st)
        finish_bin(st); return
    }
    if (line ~ /^@@KTEST KERNEL /) { finish_bin("died"); return }
    if (line == "@@KTEST DMESG END") { indmesg = 0; return }
    if (line == "@@KTEST DMESG") { indmesg = 1; return }
    if (line ~ /^@@KTEST HOST /) { print substr(line, 14) >>dmesgfile; return }
    if (line ~ /^@@KTEST /) return
    if (indmesg) { if (line != "") print line >>dmesgfile; return }
    # Kernel messages that reach the console (panics, oopses) are worth keeping.
    if (line ~ /^\[ *[0-9]+\.[0-9]+\] / && line ~ /(panic|Oops|BUG|WARNING|Call Trace)/) print line >>dmesgfile
    if (!inbin) return

    lasts[nl % 40] = line; nl++
    if (capture != "") {
        if (line ~ /^---- .* std(out|err) ----$/ || line == "failures:" || line ~ /^test result: /) capture = ""
        else { fout[capture] = fout[capture] line "\n"; return }
    }
    if (line ~ /^---- .* std(out|err) ----$/) {
        capture = line; sub(/^---- /, "", capture); sub(/ std(out|err) ----$/, "", capture)
        return
    }
    if (line ~ /^test .* \.\.\. /) {
        t = line; sub(/^test /, "", t); sub(/ \.\.\. .*$/, "", t)
        rest = line; sub(/^test .* \.\.\. /, "", rest)
        if (rest ~ /^(ok|FAILED|ignored)/) { result(t, rest); pending = ""; return }
        pending = t; line = rest
    } else if (pending != "" && line ~ /^(ok|FAILED|ignored)/) {
        result(pending, line); pending = ""; return
    }
    if (match(line, /SKIPPED [^ ]+/)) {
        s = substr(line, RSTART + 8)
        # The name ends at ": " (or a space): test names may hold "::".
        k = s; sub(/:? .*$/, "", k); sub(/:$/, "", k)
        why = substr(s, length(k) + 1); sub(/^: */, "", why); sub(/^ +/, "", why)
        # With one test thread the running test is known; otherwise go by the name.
        if (pending != "") add(skipp, pending, why)
        else add(skipw, k, why)
    }
}

END { finish_bin("died") }
