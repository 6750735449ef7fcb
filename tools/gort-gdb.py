# tools/gort-gdb.py -- gdb support for programs that use gort (Go's runtime
# for C), in the spirit of Go's src/runtime/runtime-gdb.py.
#
# Load it by hand:
#
#     (gdb) source tools/gort-gdb.py
#     gdb -p PID -x tools/gort-gdb.py           # attach to a running program
#
# or let gdb auto-load it: copy it next to the program as PROGRAM-gdb.py and
# allow the directory once in ~/.gdbinit:
#
#     add-auto-load-safe-path /path/to/your/program/dir
#
# Commands (the program needs debug info for libgort: build with -g, the
# Makefile's default):
#
#     info goroutines     one line per live goroutine:
#                             * 1 running  main_entry
#                               2 waiting [chan receive]  worker
#                         "*" marks the goroutine running on the thread gdb
#                         has selected; then goid, status (Go's names; a
#                         parked one shows its wait reason) and the function
#                         the goroutine was started with.
#     goroutine N bt      backtrace of goroutine N. A goroutine that is not
#                         on a thread is unwound from the context saved at
#                         g->sp; a running one is shown on its thread.
#     goroutine all bt    the same for every live goroutine.
#     set gort-runtime-frames on|off
#                         bt hides libgort's own frames (a frame filter), as
#                         Go's tracebacks hide the runtime's; "on" (or
#                         "bt -no-filters") shows them.
#     gort-sched          GOMAXPROCS, each P's status, local run queue length
#                         and runnext, and the global queue / idle P /
#                         spinning M counts.
#
# What it reads (sched/internal.h): sched__allgs[0 .. sched__allglen), the
# chunks of goroutines not started yet sched__uchunks[0 .. sched__nuchunks)
# (48-byte slots after a 4 KiB header; sched/galloc.c), the M list sched__allm, sched__allp[0 .. sched__gomaxprocs), sched__sched, and
# the thread-local runtime__tls_m. The saved context of a switched-out G is
# described in runtime/arch/amd64.S:
#
#     g->sp+0   MXCSR / x87 control word
#     g->sp+8   r15 r14 r13 r12 rbx rbp
#     g->sp+56  return address        (the G resumes there with rsp = sp+64)
#
# It only reads the inferior, except for "goroutine N bt" on a parked G,
# which points the selected thread's registers at the saved context for the
# duration of one "bt" and restores them afterwards (as runtime-gdb.py does).

import gdb

G_STATUS = {
    0: "idle",
    1: "runnable",
    2: "running",
    3: "syscall",
    4: "waiting",
    6: "dead",
}
G_RUNNABLE, G_RUNNING, G_SYSCALL, G_WAITING, G_DEAD = 1, 2, 3, 4, 6

P_STATUS = {0: "idle", 1: "running", 2: "syscall", 3: "gcstop", 4: "dead", 5: "handed"}

# Offsets into the context saved by sched__mcall (runtime/arch/amd64.S).
CTX_REGS = (("r15", 8), ("r14", 16), ("r13", 24), ("r12", 32),
            ("rbx", 40), ("rbp", 48))
CTX_PC = 56
CTX_SIZE = 64

# Registers "goroutine N bt" changes and restores.
SWITCH_REGS = ("rip", "rsp", "rbp", "rbx", "r12", "r13", "r14", "r15")


def _ptr(v):
    """The integer value of a gdb pointer (or integer) value."""
    return int(v.cast(gdb.lookup_type("unsigned long")))


def _u64(addr):
    """Reads 8 bytes of inferior memory at addr."""
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return int.from_bytes(bytes(mem), "little")


def _funcname(addr):
    """The name of the function containing addr, or its hex value."""
    if addr == 0:
        return "nil"
    try:
        blk = gdb.block_for_pc(addr)
        while blk is not None and blk.function is None:
            blk = blk.superblock
        if blk is not None and blk.function is not None:
            return blk.function.print_name
    except RuntimeError:
        pass
    try:
        out = gdb.execute("info symbol 0x%x" % addr, to_string=True)
        if not out.startswith("No symbol"):
            return out.split()[0]
    except gdb.error:
        pass
    return "0x%x" % addr


def _allgs():
    """Yields every G descriptor ever created (dead ones included)."""
    try:
        n = int(gdb.parse_and_eval("sched__allglen"))
        allgs = gdb.parse_and_eval("sched__allgs")
    except gdb.error as e:
        raise gdb.GdbError("gort: cannot read sched__allgs (%s); is this a "
                           "gort program with debug info?" % e)
    for i in range(n):
        gp = allgs[i]
        if _ptr(gp) != 0:
            yield gp.dereference()
    # Goroutines that have not run yet live in chunks of their own (see
    # sched/galloc.c): read each chunk at once, keep the runnable ones.
    try:
        nchunks = int(gdb.parse_and_eval("sched__nuchunks"))
        chunks = gdb.parse_and_eval("sched__uchunks")
        # SCHED_UNSTARTED_SIZE, SCHED_UCHUNK_HDR, SCHED_UCHUNK_TAIL, SCHED_UCHUNK
        size, hdr, tail = 48, 4096, 320
        per = ((1 << 20) - hdr - tail) // size
        gtype = gdb.lookup_type("g_t").pointer()
        off = int(gdb.parse_and_eval("(unsigned long)&((g_t *)0)->status"))
    except gdb.error:
        return
    inferior = gdb.selected_inferior()
    for c in range(nchunks):
        base = _ptr(chunks[c])
        try:
            mem = bytes(inferior.read_memory(base + hdr, per * size))
        except gdb.MemoryError:
            continue
        for i in range(per):
            st = int.from_bytes(mem[i * size + off:i * size + off + 4], "little")
            if st == G_RUNNABLE:
                yield gdb.Value(base + hdr + i * size).cast(gtype).dereference()


def _allms():
    """Yields every M descriptor (the sched__allm list)."""
    m = gdb.parse_and_eval("sched__allm")
    seen = 0
    while _ptr(m) != 0 and seen < 100000:
        yield m.dereference()
        m = m["alllink"]
        seen += 1


def _thread_by_lwp(lwp):
    """The gdb thread whose LWP is lwp, or None."""
    for t in gdb.selected_inferior().threads():
        if t.ptid[1] == lwp:
            return t
    return None


def _current_m():
    """The M of the thread gdb has selected: runtime__tls_m, or else the M whose
    tid is the thread's LWP. None on a foreign thread."""
    try:
        m = gdb.parse_and_eval("(m_t *)runtime__tls_m")
        if _ptr(m) != 0:
            return m.dereference()
    except gdb.error:
        pass   # no TLS support in this gdb / static binary: match the tid
    th = gdb.selected_thread()
    if th is None:
        return None
    for m in _allms():
        if int(m["tid"]) == th.ptid[1]:
            return m
    return None


def _status_str(g):
    st = int(g["status"])
    name = G_STATUS.get(st, "status%d" % st)
    if st == G_WAITING and _ptr(g["waitreason"]) != 0:
        try:
            name = "waiting [%s]" % g["waitreason"].string()
        except gdb.error:
            pass
    return name


def _find_g(goid):
    for g in _allgs():
        if int(g["goid"]) == goid and int(g["status"]) != G_DEAD:
            return g
    return None


class InfoGoroutines(gdb.Command):
    """List the goroutines: info goroutines
An asterisk marks the goroutine running on the selected thread."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        cur = _current_m()
        curg = _ptr(cur["curg"]) if cur is not None else 0
        for g in sorted(_allgs(), key=lambda g: int(g["goid"])):
            if int(g["status"]) == G_DEAD:
                continue
            mark = "*" if _ptr(g.address) == curg else " "
            line = "%s %d %s  %s" % (mark, int(g["goid"]), _status_str(g),
                                     _funcname(_ptr(g["fn"])))
            if bool(g["system"]):
                line += "  (system)"
            gdb.write(line + "\n")


class GoroutineCmd(gdb.Command):
    """Run a command in the context of goroutine N: goroutine N bt
"goroutine all bt" does it for every live goroutine.
A goroutine that runs on a thread is shown on that thread; a parked or
runnable one is unwound from the context it saved when it switched out."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        parts = arg.split(None, 1)
        if len(parts) < 2:
            raise gdb.GdbError("usage: goroutine N bt | goroutine all bt")
        try:
            goid = -1 if parts[0] == "all" else int(parts[0], 0)
        except ValueError:
            raise gdb.GdbError("goroutine: bad goroutine id %r" % parts[0])
        cmd = parts[1]
        if parts[0] == "all":
            for g in list(_allgs()):
                if int(g["status"]) == G_DEAD:
                    continue
                st = _status_str(g)
                if st.startswith("waiting ["):
                    st = st[len("waiting ["):-1]   # Go's header: the reason
                gdb.write("\ngoroutine %d [%s]:\n" % (int(g["goid"]), st))
                try:
                    self._run(int(g["goid"]), g, cmd, from_tty)
                except gdb.GdbError as e:
                    gdb.write("%s\n" % e)
            return
        g = _find_g(goid)
        if g is None:
            raise gdb.GdbError("goroutine %d not found" % goid)
        self._run(goid, g, cmd, from_tty)

    def _run(self, goid, g, cmd, from_tty):
        """Runs cmd in the context of goroutine goid (descriptor g)."""
        st = int(g["status"])
        m = g["m"] if not int(g["unstarted"]) else None
        if st in (G_RUNNING, G_SYSCALL) and m is not None and _ptr(m) != 0:
            self._on_thread(goid, m.dereference(), cmd, from_tty)
        else:
            self._from_context(goid, g, cmd, from_tty)

    def _on_thread(self, goid, m, cmd, from_tty):
        """goid runs on m's thread: run cmd there."""
        tid = int(m["tid"])
        gdb.write("goroutine %d is running on M%d, thread LWP %d\n"
                  % (goid, int(m["id"]), tid))
        th = _thread_by_lwp(tid)
        if th is None:
            raise gdb.GdbError("no gdb thread for LWP %d" % tid)
        saved = gdb.selected_thread()
        try:
            th.switch()
            gdb.execute(cmd, from_tty)
        finally:
            if saved is not None and saved.is_valid():
                saved.switch()

    def _from_context(self, goid, g, cmd, from_tty):
        """goid is switched out: point the registers at its saved context."""
        sp = _ptr(g["sp"])
        if int(g["unstarted"]):
            raise gdb.GdbError("goroutine %d has not started yet (it will run %s)"
                               % (goid, _funcname(_ptr(g["fn"]))))
        if sp == 0:
            raise gdb.GdbError("goroutine %d has no saved context" % goid)
        try:
            regs = {r: _u64(sp + off) for r, off in CTX_REGS}
            regs["rip"] = _u64(sp + CTX_PC)
        except gdb.MemoryError:
            raise gdb.GdbError("goroutine %d: cannot read its saved context "
                               "at 0x%x" % (goid, sp))
        regs["rsp"] = sp + CTX_SIZE
        # Registers are written in frame 0 only: in an outer frame a write
        # would go to the stack slot the register was saved in.
        gdb.newest_frame().select()
        old = {r: _ptr(gdb.parse_and_eval("$" + r)) for r in SWITCH_REGS}
        try:
            gdb.execute("set $rip = 0x%x" % regs["rip"], to_string=True)
        except gdb.error as e:
            # No live process (a core file): only the resume point is known.
            raise gdb.GdbError(
                "goroutine %d is switched out at %s (pc 0x%x, sp 0x%x); "
                "unwinding it needs a live process (%s)"
                % (goid, _funcname(regs["rip"]), regs["rip"], regs["rsp"], e))
        try:
            for r in SWITCH_REGS:
                gdb.execute("set $%s = 0x%x" % (r, regs[r]), to_string=True)
            gdb.execute(cmd, from_tty)
        finally:
            gdb.newest_frame().select()
            for r in SWITCH_REGS:
                gdb.execute("set $%s = 0x%x" % (r, old[r]), to_string=True)


class GortSched(gdb.Command):
    """Show the scheduler's state: gort-sched
GOMAXPROCS, each P's status, local run queue length and runnext, and the
global run queue size, idle Ps and spinning Ms."""

    def __init__(self):
        super().__init__("gort-sched", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        try:
            n = int(gdb.parse_and_eval("sched__gomaxprocs"))
            allp = gdb.parse_and_eval("sched__allp")
            s = gdb.parse_and_eval("sched__sched")
        except gdb.error as e:
            raise gdb.GdbError("gort: cannot read the scheduler (%s)" % e)
        gdb.write("gomaxprocs=%d\n" % n)
        for i in range(n if _ptr(allp) != 0 else 0):
            pp = allp[i]
            if _ptr(pp) == 0:
                continue
            p = pp.dereference()
            st = int(p["status"])
            qlen = (int(p["runqtail"]) - int(p["runqhead"])) & 0xffffffff
            nx = p["runnext"]
            nxs = "nil"
            if _ptr(nx) != 0:
                nxs = "goroutine %d" % int(nx.dereference()["goid"])
            mid = "nil"
            if _ptr(p["m"]) != 0:
                mid = "M%d" % int(p["m"].dereference()["id"])
            gdb.write("  P%d: status=%s m=%s runqsize=%d runnext=%s\n"
                      % (int(p["id"]), P_STATUS.get(st, str(st)), mid, qlen, nxs))
        gdb.write("runqsize=%d npidle=%d nmspinning=%d\n"
                  % (int(s["runqsize"]), int(s["npidle"]), int(s["nmspinning"])))


class ShowRuntimeFrames(gdb.Parameter):
    """Whether backtraces show libgort's own frames (off: hidden, as Go's
tracebacks hide the runtime's unless GOTRACEBACK=system)."""
    set_doc = "Set whether backtraces show libgort's own frames."
    show_doc = "Show whether backtraces show libgort's own frames."

    def __init__(self):
        super().__init__("gort-runtime-frames", gdb.COMMAND_STACK, gdb.PARAM_BOOLEAN)
        self.value = False


def _gort_text():
    """[lo, hi) of libgort's code: the gort_text section of a static link,
    else libgort.so's text (found through the solib of a runtime symbol)."""
    try:
        lo = _ptr(gdb.parse_and_eval("(char *)__start_gort_text"))
        hi = _ptr(gdb.parse_and_eval("(char *)__stop_gort_text"))
        if lo and hi > lo:
            return lo, hi
    except gdb.error:
        pass
    return None


class GortFrameFilter:
    """Hides libgort's frames from bt unless gort-runtime-frames is on
    ("bt -no-filters" shows every frame too)."""

    def __init__(self, param):
        self.name = "gort-runtime-frames"
        self.priority = 100
        self.enabled = True
        self.param = param
        gdb.frame_filters[self.name] = self

    def _runtime(self, frame):
        pc = frame.inferior_frame().pc()
        text = _gort_text()
        if text is not None:
            return text[0] <= pc < text[1]
        lib = gdb.solib_name(pc)
        return lib is not None and "libgort.so" in lib

    def filter(self, frame_iter):
        if self.param.value:
            return frame_iter
        return (f for f in frame_iter if not self._runtime(f))


InfoGoroutines()
GoroutineCmd()
GortSched()
GortFrameFilter(ShowRuntimeFrames())
