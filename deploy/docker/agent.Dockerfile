# The agent alone: python slim + click + PyYAML + journalctl (to read the node's journal).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends systemd && rm -rf /var/lib/apt/lists/*
COPY src /src/src
COPY deploy/agent-package /src/deploy/agent-package
RUN pip install --no-cache-dir /src/deploy/agent-package && rm -rf /src
ENTRYPOINT ["timberyard-agent"]
