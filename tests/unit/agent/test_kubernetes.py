from __future__ import annotations

import json

from timberyard.agent.kubernetes import ContainerDecoder, container_origin


def test_kubelet_file_names() -> None:
    name = f"/var/log/containers/web-1_shop_nginx-{'a' * 64}.log"
    assert container_origin(name) == {"pod": "web-1", "namespace": "shop", "container": "nginx", "id": "a" * 64}
    assert container_origin("/var/log/syslog") is None


def test_cri_and_docker_lines_with_partial_pieces_per_stream() -> None:
    decoder, out = ContainerDecoder(1 << 20), []
    decoder.feed(b"2026-12-01T10:00:00.250000000Z stdout P first ", 0, out)
    decoder.feed(b"2026-12-01T10:00:01Z stderr F err", 50, out)
    assert decoder.held_from == 0
    decoder.feed(b"2026-12-01T10:00:02Z stdout F second", 90, out)
    decoder.feed(json.dumps({"log": "dock", "stream": "stdout", "time": "2026-12-01T10:00:03.5Z"}).encode(), 130, out)
    decoder.feed(json.dumps({"log": "er\n", "stream": "stdout", "time": "2026-12-01T10:00:04Z"}).encode(), 200, out)
    decoder.feed(b"not a runtime line", 260, out)
    assert out == [("err", 50, 1796119201000, "stderr"), ("first second", 0, 1796119200250, "stdout"),
                   ("docker", 130, 1796119203500, "stdout"), ("not a runtime line", 260, None, "stdout")]
    assert decoder.held_from is None
