"""The RingCentral-compatible face: OAuth, call logs, and RingCentral's error shape."""
