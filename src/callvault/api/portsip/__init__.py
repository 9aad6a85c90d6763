"""The PortSIP-style CDR face: ``/api/cdrs``, ``/api/calllogs``, ``/api/user/cdrs`` (one record
per call target), the user's CDR delta sync, and the token login clients of PortSIP use."""
