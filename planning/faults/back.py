"""Return to the normal state after the repair: the plan's last steps.

From the state after stage 2 (switches opened for isolation and splits, ties
closed for transfers, trucks connected), one operation at a time, starting at
the end of the repair:

1. **Reclose** a switch opened during the fault (normally closed) whose
   closing gives supply back to a dead part — the repaired section, areas left
   dark behind a split — when it is safe (feeder head and power flow, as every
   restoration closing). Most weight first, then the part's own feeder.
2. **Make before break**: a switch opened during the fault with both ends live
   (an area on a transfer) is closed, making a loop through the tie, when the
   loop joins feeders of one substation and both the loop and the state after
   opening the tie pass the power flow; then the tie opens. Nobody is
   interrupted.
3. A tie whose opening leaves nothing dark opens.
4. **Break before make** otherwise (two substations, or the loop fails the
   power flow): the tie feeding the area opens first, the area is briefly
   dark, and step 1 closes it back on its own feeder.
5. Anything left is done in a safe order without checks (ties open, then
   switches close) with a note.

A truck is disconnected right before the closing that re-energises its block.
The final state is the normal state (checked in the tests: no healthy
customer dark after the last step).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from planning.faults.reasons import Reason
from planning.faults.trucks import TruckPlan


def return_to_normal(st: Any, *, start: datetime, remote: timedelta, manual: timedelta,
                     make_step: Callable[..., Any], trucks: list[TruckPlan],
                     truck_step: Callable[[TruckPlan, datetime], Any]) -> tuple[list[Any], list[str], datetime]:
    """Steps from the state of ``st`` (a restore study) back to the normal state, from ``start``.

    Returns the steps (``Step``), notes, and the time after the last step.
    """
    st.fn = frozenset()  # repaired: the section may carry supply again
    t = start
    steps: list[Any] = []
    notes: list[str] = []
    connected = list(trucks)

    def op(s: str) -> timedelta:
        return remote if st.net.switches[s].remote else manual

    def unplug(customers: tuple[str, ...]) -> None:
        for p in list(connected):
            if set(p.customers) & set(customers):
                connected.remove(p)
                steps.append(truck_step(p, t))

    for _ in range(4 * (len(st.open) + len(st.close)) + 4):
        if not st.open and not st.close:
            break
        dead = st.dead()
        ev = _reclosing(st, dead)
        if ev is not None:
            unplug(ev.customers)
            t += op(ev.switch)
            st.open.remove(ev.switch)
            steps.append(make_step("close", ev.switch, t, Reason("step_back_close", {
                "restored": len(ev.customers), "feeder": ev.feeder}), ev))
            continue
        mbb = _make_before_break(st, dead)
        if mbb is not None:
            s, tie = mbb
            t += op(s)
            st.open.remove(s)
            steps.append(make_step("close", s, t, Reason("step_back_make_before_break", {"switch": s, "tie": tie})))
            t += op(tie)
            st.close.remove(tie)
            steps.append(make_step("open", tie, t, Reason("step_back_open_tie_after_loop")))
            continue
        brk = _break_first(st, dead)
        if brk is not None:
            tie, code = brk
            t += op(tie)
            st.close.remove(tie)
            steps.append(make_step("open", tie, t, Reason(code)))
            continue
        break
    if st.close or st.open:
        notes.append("switching back not checked safe: " + ", ".join(
            [f"open {s}" for s in sorted(st.close)] + [f"close {s}" for s in sorted(st.open)]))
    for tie in sorted(st.close):
        t += op(tie)
        steps.append(make_step("open", tie, t, Reason("step_back_open_tie_unchecked")))
    st.close.clear()
    while st.open:
        dead = st.dead()
        live_first = sorted(st.open, key=lambda s: (_ends_dead(st, s, dead) != 1, s))
        s = live_first[0]
        ev = st.evaluate_close(s, dead)
        unplug(ev.customers)
        t += op(s)
        st.open.remove(s)
        steps.append(make_step("close", s, t, Reason("step_back_close_unchecked"), ev))
    for p in connected:
        steps.append(truck_step(p, t))
    return steps, notes, t


def _ends_dead(st: Any, s: str, dead: set[str]) -> int:
    info = st.net.switches[s]
    return int(info.from_node in dead) + int(info.to_node in dead)


def _reclosing(st: Any, dead: set[str]) -> Any:
    """The best safe closing of a switch opened during the fault that restores a dead part."""
    evals = [st.evaluate_close(s, dead) for s in sorted(st.open) if _ends_dead(st, s, dead) == 1]
    ok = [e for e in evals if e.ok]
    if not ok:
        return None

    def own_feeder(e: Any) -> bool:
        node = min(e.restored_nodes)
        return st.net.tree.feeder(st.net.sec_of_node[node]) == e.feeder

    return max(ok, key=lambda e: (e.value, own_feeder(e), e.switch))


def _make_before_break(st: Any, dead: set[str]) -> tuple[str, str] | None:
    """(switch to close, tie to open) when the loop is within one substation and passes the power flow."""
    for s in sorted(x for x in st.open if _ends_dead(st, x, dead) == 0):
        loop_open = [x for x in st.open if x != s]
        chk = st.grid.check_state(open_switches=loop_open, close_switches=st.close)
        if chk.paralleled:
            continue
        for tie in sorted(st.close):
            after_close = [x for x in st.close if x != tie]
            if st.dead(loop_open, after_close) - dead:
                continue
            loop = st.flow.check(loop_open, st.close)
            after = st.flow.check(loop_open, after_close)
            if (loop is None or loop.ok) and (after is None or after.ok):
                return s, tie
    return None


def _break_first(st: Any, dead: set[str]) -> tuple[str, str] | None:
    """A tie to open first: one whose opening drops nothing, else the one dropping the fewest nodes
    among those after which a switch opened during the fault can close the area back; with the
    reason code of its step."""
    best: tuple[int, str] | None = None
    for tie in sorted(st.close):
        after_close = [x for x in st.close if x != tie]
        after = st.dead(st.open, after_close)
        dropped = after - dead
        if not dropped:
            return tie, "step_back_open_unused_tie"
        if any(_ends_dead(st, s, after) == 1 for s in st.open) and (best is None or len(dropped) < best[0]):
            best = (len(dropped), tie)
    if best is None:
        return None
    return best[1], "step_back_break_before_make"
