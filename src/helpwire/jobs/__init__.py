"""Durable jobs: work enqueued in a transaction and run later, once, by a worker.

``enqueue_job`` and ``cancel_job`` (service.py) are what other packages call; the
``Worker`` (worker.py) claims due jobs with a lease and runs the handler a
``JobRegistry`` names for each kind.
"""
