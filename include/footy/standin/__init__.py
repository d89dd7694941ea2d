"""Stand-in upstreams on one loopback HTTP server, for demos and tests.

* :mod:`footy.standin.server` - the server, the route registry (``register``), the shared
  :class:`~footy.standin.server.World` (scenario + clock + faults), control endpoints under
  ``/_standin/``, ``start_in_thread`` for tests and ``main`` for ``python -m footy standin``.
* :mod:`footy.standin.scenario` - the scenario JSON format, its loader and the scenario clock.
* :mod:`footy.standin.api_football` - API-Football v3 routes.

To add an upstream, drop a module in this package that calls
``footy.standin.server.register(method, path_prefix, handler)`` at import time; every module
here is imported when a server starts.
"""
