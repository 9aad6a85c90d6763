"""Turns call events into calls: group, track party state, finish, build call-log records.

Pure: no I/O and no clock. Time arrives in events, and ``Correlator.expire(now)`` is told it.
"""
