"""The load test (`make loadtest`, issue 9) and the server side of the unsubscribe throughput
benchmark (bench/unsubscribe_load.py, issue 8): gunicorn, a Celery worker and beat on loopback,
load from a second process. See docs/benchmarks.md, "Load test"."""
