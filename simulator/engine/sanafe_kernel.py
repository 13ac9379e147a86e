"""SANA-FE's detailed schedule of one time step over flat arrays, compiled with numba when it is
installed (the `fast` extra): the same operations, in the same order, as DetailedNoc.schedule,
which stays the readable reference and the fallback without numba.

Why a second form: the schedule handles every message one at a time in time order (2.2 M on
SANA-FE's DVS network), which is a few microseconds each as Python objects and a few nanoseconds
each compiled. The heap below is CPython's heapq (siftdown/siftup, step for step) with entries
compared by time alone, as DetailedNoc's never-less ties make them, so equal times come out in
the same order; floating-point sums and products are done in the reference's order, and numba
compiles without fast-math, so the result is bit-identical (tests/engine/test_sanafe_kernel.py).
"""

import numpy as np

_compiled = None  # the jitted kernel once built; False when numba is not installed


def _sift_down(times, cores, start, pos):
    """heapq._siftdown: move the entry at pos up towards start while it is earlier."""
    time, core = times[pos], cores[pos]
    while pos > start:
        parent = (pos - 1) >> 1
        if time < times[parent]:
            times[pos], cores[pos] = times[parent], cores[parent]
            pos = parent
            continue
        break
    times[pos], cores[pos] = time, core


def _sift_up(times, cores, size, pos):
    """heapq._siftup: move the smaller child up until a leaf, then sift the entry down."""
    start = pos
    time, core = times[pos], cores[pos]
    child = 2 * pos + 1
    while child < size:
        right = child + 1
        if right < size and not times[child] < times[right]:
            child = right
        times[pos], cores[pos] = times[child], cores[child]
        pos = child
        child = 2 * pos + 1
    times[pos], cores[pos] = time, core
    _sift_down(times, cores, start, pos)


def schedule_arrays(
    first, stop, generation, route, processing, r_dst, r_ptr, r_links, r_hops1, r_cap, r_min,
    r_adjust, links, cores,
):  # fmt: skip
    """The step's last timestamp (s). Messages m of core c are first[c] <= m < stop[c], in send
    order: generation delay, route index (-1 for a placeholder) and processing delay. Route r:
    destination core, density links r_links[r_ptr[r]:r_ptr[r + 1]], hops + 1, capacity in
    messages, hop latency and the density one message adds per link."""
    density = np.zeros(links)
    finished = np.zeros(cores)
    times = np.zeros(cores)  # the heap of each core's next message, by sent time
    owners = np.zeros(cores, dtype=np.int64)
    current = np.zeros(cores, dtype=np.int64)  # each core's message in the heap
    total = generation.shape[0]
    received = np.zeros(total)
    following = np.full(total, -1, dtype=np.int64)  # next message in flight to the same core
    head = np.full(cores, -1, dtype=np.int64)  # per destination core, messages in flight
    tail = np.full(cores, -1, dtype=np.int64)
    size = 0
    for core in range(cores):  # schedule_init_timing_priority
        if first[core] < stop[core]:
            times[size], owners[size] = generation[first[core]], core
            current[core] = first[core]
            size += 1
            _sift_down(times, owners, 0, size - 1)
    due = np.inf  # the earliest received time of any message in flight
    last, mean, count = 0.0, 0.0, 0
    while size > 0:
        sent, core = times[0], owners[0]  # heappop
        size -= 1
        if size > 0:
            times[0], owners[0] = times[size], owners[size]
            _sift_up(times, owners, size, 0)
        if last < sent:
            last = sent
        if due <= sent:  # noc_update_all_tracked_messages, by destination core then arrival
            due = np.inf
            for dst in range(cores):
                m = head[dst]
                while m >= 0 and received[m] <= sent:
                    r = route[m]
                    adjust = r_adjust[r]
                    for k in range(r_ptr[r], r_ptr[r + 1]):
                        density[r_links[k]] += -adjust
                    if count > 1:
                        mean += (mean - processing[m]) / (count - 1.0)
                    else:
                        mean = 0.0
                    count -= 1
                    m = following[m]
                head[dst] = m
                if m < 0:
                    tail[dst] = -1
                elif received[m] < due:
                    due = received[m]
        m = current[core]
        r = route[m]
        if r >= 0:  # schedule_handle_message
            dst = r_dst[r]
            along = 0.0
            for k in range(r_ptr[r], r_ptr[r + 1]):
                along += density[r_links[k]]
            if along > r_cap[r]:
                sent += (along - r_cap[r]) * mean
            congestion = along * mean / r_hops1[r]
            earliest = sent + (congestion if r_min[r] < congestion else r_min[r])
            before = finished[dst]
            work = processing[m]
            queued, direct = before + work, earliest + work
            done = direct if queued < direct else queued
            finished[dst] = done
            if last < done:
                last = done
            adjust = r_adjust[r]
            for k in range(r_ptr[r], r_ptr[r + 1]):
                density[r_links[k]] += adjust
            mean += (work - mean) / (count + 1.0)
            count += 1
            landed = earliest if before < earliest else before
            received[m] = landed
            if tail[dst] < 0:
                head[dst] = m
                if landed < due:
                    due = landed
            else:
                following[tail[dst]] = m
            tail[dst] = m
        if m + 1 < stop[core]:  # schedule_push_next_message
            current[core] = m + 1
            sent += generation[m + 1]
            times[size], owners[size] = sent, core
            size += 1
            _sift_down(times, owners, 0, size - 1)
            if last < sent:
                last = sent
    return last


def compiled():
    """schedule_arrays compiled by numba (cached on disk where a cache folder is writable), or
    None without numba or with its JIT turned off (NUMBA_DISABLE_JIT: the Python reference is
    then faster than these loops uncompiled)."""
    global _compiled, _sift_down, _sift_up
    if _compiled is None:
        try:
            import numba
        except ImportError:
            _compiled = False
            return None
        if numba.config.DISABLE_JIT:
            _compiled = False
            return None
        try:
            jit = numba.njit(cache=True)
            sift_down, sift_up, schedule = jit(_sift_down), jit(_sift_up), jit(schedule_arrays)
        except RuntimeError:  # numba finds no writable cache folder: compile every run
            jit = numba.njit
            sift_down, sift_up, schedule = jit(_sift_down), jit(_sift_up), jit(schedule_arrays)
        # schedule_arrays calls the sift functions by their global names: numba compiles those
        _sift_down, _sift_up, _compiled = sift_down, sift_up, schedule
    return _compiled or None
