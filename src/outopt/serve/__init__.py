"""The planner's workbench: ``outopt serve``, a local web application over the Python API.

In the browser a planner opens an instance, sees it validated, solves it with a live progress line,
steers the plan (locks, bans, limits), keeps each run as a scenario and compares them, asks why, traces
a frontier and downloads the results; the same actions are a JSON API under ``/api``.

* :mod:`outopt.serve.app`: the application (FastAPI on uvicorn), its guards and error handling;
* :mod:`outopt.serve.api` and :mod:`outopt.serve.pages`: the JSON API and the pages (Jinja2, htmx);
* :mod:`outopt.serve.jobs`: the bounded pool of worker processes the solves run in;
* :mod:`outopt.serve.work`: what a worker runs (solve, explain, frontier);
* :mod:`outopt.serve.uploads`: uploads read as the command line reads files, downloads written back;
* :mod:`outopt.serve.workspace` and :mod:`outopt.serve.views`: one browser's state, and what it sees;
* :mod:`outopt.serve.server`: ``outopt serve`` itself.
"""
