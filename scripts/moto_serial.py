"""moto server with one request at a time (test set-up for a moto gap, see docs/emulators.md).

moto 5.2.1 applies a TransactWriteItems action by action after deep-copying the whole table, and
restores that copy when an action fails. Its threaded server runs requests concurrently, so a
failing transaction can wipe out a concurrent transaction's committed writes, or expose its own
partial writes. DynamoDB serializes conflicting writes; so does this wrapper, by taking a global
lock around every request. It is the stock moto server otherwise (same app, same options).
"""
import argparse
import os
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialized, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
