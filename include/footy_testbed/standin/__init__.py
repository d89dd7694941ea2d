"""Stand-in upstreams on one loopback HTTP server, for demos and tests.

* :mod:`.server` - the server, the route registry (``register``), the shared
  :class:`~.server.World` (scenario + clock + faults), control endpoints under
  ``/_standin/``, ``start_in_thread`` for tests and ``main`` for
  ``python -m footy_testbed.standin``.
* :mod:`.scenario` - the scenario JSON format, its loader and the scenario clock.
* :mod:`.api_football` - API-Football v3 routes.

To add an upstream, drop a module in this package that calls
``footy_testbed.standin.server.register(method, path_prefix, handler)`` at import time; every module
here is imported when a server starts.
"""
