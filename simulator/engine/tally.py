"""Repeated bookings of the same counters, added once per kind instead of once per booking.

A core class books the same rows, (table, key, count), to every member for every segment of a
kind (its busy time, per-op busy time and counters). Adding whole numbers gives the same float
in any order while every partial sum stays below 2**53, so such rows are booked as they come the
first time (which puts their keys into the tables in the order the eager bookings would) and from
then on only counted; each row's count times its bookings is added at the next flush (the end of
the engine run, or sooner once that much waits). Rows with a fraction, a negative or huge count,
or a key that a fractional row touched are booked as they come; a flushed total nearing 2**53
ends the deferral of its rows. Other writers to a deferred key must add whole numbers of at least
0 (the engine's DMA bytes do).

A booking may be scaled (a NoC hold's cycles times its links' busy rows of 1): the scales are
summed the same way while they are whole and each times the rows' largest count stays within
CAP; a fractional or larger one books its rows as they come from then on. Rows that each stand
for several whole bookings summed (a class member's bytes of a batch) wait through `defer`,
which refuses where their keys took a fraction or a total nears 2**52: the caller then books
each of them as it comes."""

NEAR = 2**52
"""Once a deferred total reaches this, its rows are booked as they come (exact up to 2**53)."""

CAP = 2**40
"""At most this much (count x bookings) waits per row before it is added; larger counts are
booked as they come."""


class Tally:
    """Deferred bookings of rows of (table, key, count): `book` adds each row's count to
    table[key], now or at the next `flush`, with the same result and key order as adding now."""

    def __init__(self):
        self.entries: dict[int, list] = {}  # id(rows) -> [rows, bookings waiting, their cap]
        self.deferred: set[tuple[int, object]] = set()  # (id(table), key) of deferred rows
        self.tainted: set[tuple[int, object]] = set()  # ... of rows booked as they come

    def book(self, rows: tuple[tuple[dict, object, int | float], ...], times=1) -> None:
        """Add each row's count (times `times`, a booking's scale: 1, or e.g. a hold's cycles
        for rows of 1) to table[key]. `rows` must be kept by the caller and booked again as
        the same tuple (it is known by its id, and kept here while known)."""
        entry = self.entries.get(id(rows))
        if entry is None:
            entry = self._first(rows, times)
        elif entry[2]:
            if _scale(times) and times <= entry[2]:
                entry[1] += times
                if entry[1] >= entry[2]:
                    self._add(entry)
                return
            self._taint(entry)  # a fraction or a scale past the cap: booked as they come
        for table, key, count in rows:
            table[key] += count * times

    def defer(self, rows: tuple[tuple[dict, object, int], ...]) -> bool:
        """Book rows that each stand for several whole-number bookings (a part's bytes of a
        batch, summed) if they can wait: their first time only while no key has taken a
        fraction and every total stays below NEAR (whole sums are exact in any grouping there),
        then as `book` does. False: nothing booked; the caller books each of its bookings as it
        comes (so does every later call for these rows once their deferral ended)."""
        entry = self.entries.get(id(rows))
        if entry is None:
            keys = [(id(table), key) for table, key, _ in rows]
            top = max((count for _, _, count in rows), default=0)
            whole = all(type(count) is int and count >= 0 for _, _, count in rows)
            entry = self.entries[id(rows)] = [rows, 0, 0]
            if not whole or top > CAP or not self.tainted.isdisjoint(keys):
                return False
            if any(table.get(key, 0) + count >= NEAR for table, key, count in rows):
                return False
            entry[2] = CAP // top if top else CAP
            self.deferred.update(keys)
            for table, key, count in rows:
                table[key] += count
            return True
        if not entry[2]:
            return False
        entry[1] += 1
        if entry[1] >= entry[2]:
            self._add(entry)
        return True

    def flush(self) -> None:
        """Add every deferred booking (the tables then hold what eager bookings would have)."""
        for entry in self.entries.values():
            if _waiting(entry):
                self._add(entry)

    def _first(self, rows, times) -> list:
        """Known from now on: deferred if every count is whole, 0 to CAP, the scale too (and no
        more than CAP over the largest count: a count x scale must fit the cap), and no key has
        taken a fraction; else booked as it comes (cap 0), its keys marked for the
        other rows."""
        keys = [(id(table), key) for table, key, _ in rows]
        top = max((count for _, _, count in rows), default=0)
        whole = all(_whole(count) and count >= 0 for _, _, count in rows) and top <= CAP
        cap = CAP // top if top else CAP
        entry = self.entries[id(rows)] = [rows, 0, cap]
        if whole and _scale(times) and times <= cap and self.tainted.isdisjoint(keys):
            self.deferred.update(keys)
        else:
            self._taint(entry)
        return entry

    def _taint(self, entry: list) -> None:
        """An entry booked as it comes from now on (cap 0), and every deferred entry sharing a
        key with it: their sums so far are added first (they came before this booking)."""
        if _waiting(entry):
            self._add(entry)
        entry[2] = 0
        keys = [(id(table), key) for table, key, _ in entry[0]]
        self.tainted.update(keys)
        if not self.deferred.isdisjoint(keys):
            for other in self.entries.values():
                if other[2] and not self.tainted.isdisjoint(
                    (id(table), key) for table, key, _ in other[0]
                ):
                    if _waiting(other):
                        self._add(other)
                    other[2] = 0

    def _add(self, entry: list) -> None:
        """Add an entry's waiting bookings; past NEAR its rows are booked as they come."""
        rows, times = entry[0], entry[1]
        entry[1] = 0
        for table, key, count in rows:
            before = table[key]
            total = before + count * times
            if type(total) is float:  # exact while the whole-number sum stays below 2**53
                added = int(count) * int(times)
                whole = float(before).is_integer() and 0 <= int(before) + added
                if not whole or int(before) + added >= 2**53:
                    raise RuntimeError(f"deferred counter {key}: its float sum left whole numbers")
                if total >= NEAR:
                    entry[2] = 0
            table[key] = total


def _waiting(entry: list) -> bool:
    """Bookings wait in `entry`: a sum of scales that is not 0, or 0.0 (a float scale turns an
    int table's value into a float, as adding it would)."""
    return bool(entry[1]) or type(entry[1]) is float


def _scale(times) -> bool:
    """A booking's scale that defers: whole, 0 to CAP."""
    return (type(times) is int or (type(times) is float and times.is_integer())) and (
        0 <= times <= CAP
    )


def _whole(count) -> bool:
    """A count whose sums are exact floats (an int, or a float with no fraction)."""
    return type(count) is int or (type(count) is float and count.is_integer())
