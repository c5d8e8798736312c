# The node: the full distribution.
FROM python:3.11-slim
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src && useradd --uid 10001 --create-home timberyard
USER timberyard
ENTRYPOINT ["timberyard"]
