"""The logging handler against a real node: many threads, tracebacks, extra fields, and a
program that exits promptly when the node is down."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time

import structlog

from agents import arrived
from servers import Server, free_port
from timberyard.handler import TimberyardHandler, structlog_processor


def test_thousands_of_records_from_several_threads_arrive(server: Server) -> None:
    handler = TimberyardHandler(server.ingestion_key, url=server.url + "/logs/ingest", app="billing", env="prod",
                                tags=["handler"], meta={"region": "eu"}, flush_interval=0.2)
    logger = logging.getLogger("handler-threads")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)

    def log_some(first: int) -> None:
        for number in range(first, first + 1000):
            logger.info("handlerline seq=%09d", number, extra={"order": number})

    threads = [threading.Thread(target=log_some, args=(index * 1000,)) for index in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began < 2, "logging must not wait for the network"
    try:
        raise ValueError("card declined")
    except ValueError:
        logger.exception("handlertrace charge failed")
    logger.warning("handlerwarn low balance")
    handler.flush()
    counts = arrived(server, "handlerline", expect=4000)
    assert sorted(counts.values()) == [1] * 4000 and handler.dropped == 0
    line = server.export(query='"handlerline seq=000000007"')[0]
    assert (line["_app"], line["_env"], line["level"], line["_tag"]) == ("billing", "prod", "INFO", ["handler"])
    assert (line["order"], line["region"], line["logger"]) == (7, "eu", "handler-threads")
    trace = server.export(query='"handlertrace"')[0]
    assert trace["level"] == "ERROR" and "Traceback (most recent call last):" in trace["_line"] and trace["_line"].endswith("ValueError: card declined")
    assert server.export(query='"handlerwarn"')[0]["level"] == "WARN"
    logger.removeHandler(handler)
    handler.close()


def test_a_structlog_processor_sends_events(server: Server) -> None:
    handler = TimberyardHandler(server.ingestion_key, url=server.url + "/logs/ingest", app="structured", flush_interval=0.2)
    log = structlog.wrap_logger(structlog.ReturnLogger(), processors=[structlog.processors.add_log_level, structlog_processor(handler),
                                                  lambda logger, method, event: ""])
    log.warning("structlogline paid", order=12)
    handler.flush()
    handler.close()
    server.wait_stored(1)
    line = server.export(query='"structlogline"')[0]
    assert (line["_line"], line["level"], line["order"]) == ("structlogline paid", "WARN", 12)


def test_a_program_exits_promptly_when_the_node_is_down() -> None:
    program = textwrap.dedent(f"""
        import logging
        from timberyard.handler import TimberyardHandler
        handler = TimberyardHandler("key", url="http://127.0.0.1:{free_port()}/logs/ingest", flush_timeout=2)
        logging.getLogger().addHandler(handler)
        for number in range(50_000):
            logging.getLogger().error("nobody listens %d", number)
        print(handler.dropped > 0)
    """)
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    assert time.monotonic() - began < 8
    assert result.stdout.strip() == b"True"  # the bounded buffer dropped (and counted) what it could not hold
