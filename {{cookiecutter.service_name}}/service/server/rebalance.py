"""Keep the keep-alive connections spread over the workers: no worker holds more than its share.

Why: the workers share one listening socket, and which worker accepts a new
connection is a race that a busy worker often wins.  Keep-alive then keeps
the connection where it landed.  Two cases were measured in the template's
benchmark:

* a worker recycled after MAX_REQUESTS closes its connections, and its
  clients reconnect within milliseconds, before the replacement accepts;
* a client opening its connections at once may land them all on one worker.

Either way one core carried the load and requests/s halved until the next
recycle or reconnect.

How, through gunicorn's public hooks only: each worker counts its open
connections and publishes the count in a slot of an array shared with the
master and every worker.  It takes the slot in ``post_worker_init`` and gives
it up when it stops taking requests (its last request before a recycle, or
SIGTERM); the master frees the slot of a worker that died (``child_exit``).
A worker holding more than its share of the busy connections (the total
over the workers in service, divided among them, plus a quarter) answers the
request in hand with ``Connection: close``.  Its client reconnects, and the new
connection goes to whichever worker accepts first, an idle one included; a
connection that lands on a worker over its share again is closed after its
next answer, until the counts are even.  The answer is always sent: nothing is
dropped or retried.  With one worker nothing is ever closed.
"""

import ctypes
import multiprocessing
import os
import threading
import time

# A worker counts the connections that sent a request in the last second:
# those are its load (an idle connection costs nothing), and a connection
# gunicorn closed without a hook to say so (the client hung up, or it was idle
# past KEEPALIVE) drops out of the count by itself.
ACTIVE_SECONDS = 1.0
# How often the count forgets connections that went quiet.
SWEEP_SECONDS = 0.25


class Rebalancer:
    """Made in the gunicorn master (gunicorn.conf.py); every forked worker inherits it."""

    def __init__(self, workers: int) -> None:
        # A HUP reload starts the new workers before the old ones stop: room for both.
        slots = 2 * workers + 2
        # Shared memory, written by each worker in its own slot only; a stale
        # read of another's count delays a close by a request, no more.
        self._pids = multiprocessing.Array(ctypes.c_int, slots, lock=False)
        self._counts = multiprocessing.Array(ctypes.c_int, slots, lock=False)
        self._claim = multiprocessing.Lock()
        # Per worker from here on (each has its own copy after the fork).
        self._slot: int | None = None
        self._last_seen: dict[tuple, float] = {}
        self._lock = threading.Lock()
        self._swept = 0.0

    # --- the worker's slot -----------------------------------------------------------------------

    def join(self) -> None:
        """This worker takes requests from now on (gunicorn's post_worker_init)."""
        with self._claim:
            for slot, pid in enumerate(self._pids):
                if pid == 0:
                    self._pids[slot] = os.getpid()
                    self._counts[slot] = 0
                    self._slot = slot
                    return
        # No free slot (more workers than configured): this worker does not take part.

    def leave(self) -> None:
        """This worker takes no more new requests (its last one before a recycle, or SIGTERM)."""
        slot, self._slot = self._slot, None
        if slot is not None:
            self._free(slot)

    def worker_exited(self, pid: int) -> None:
        """In the master, for a worker that is gone (gunicorn's child_exit): free its slot."""
        for slot, held_by in enumerate(self._pids):
            if held_by == pid:
                self._free(slot)

    def _free(self, slot: int) -> None:
        self._counts[slot] = 0
        self._pids[slot] = 0

    # --- the connections -------------------------------------------------------------------------

    def should_close(self, peer) -> bool:
        """Whether the answer to this request (on the connection from ``peer``) closes the connection."""
        slot = self._slot
        if slot is None:
            return False
        now = time.monotonic()
        with self._lock:
            self._last_seen[peer] = now
            if now - self._swept > SWEEP_SECONDS:
                self._forget_quiet(now)
            mine = len(self._last_seen)
            self._counts[slot] = mine
        in_service = total = 0
        for pid, count in zip(self._pids, self._counts, strict=True):
            if pid:
                in_service += 1
                total += count
        share = -(-total // in_service)  # rounded up
        # A little over the share is left alone: closing costs the client a
        # reconnect, and a worker with a few connections more is as busy.
        return mine > share + max(1, share // 4)

    def closed(self, peer) -> None:
        """The answer closed the connection (gunicorn's post_request)."""
        with self._lock:
            self._last_seen.pop(peer, None)
            if self._slot is not None:
                self._counts[self._slot] = len(self._last_seen)

    def _forget_quiet(self, now: float) -> None:
        self._swept = now
        quiet = [peer for peer, seen in self._last_seen.items() if now - seen > ACTIVE_SECONDS]
        for peer in quiet:
            del self._last_seen[peer]
