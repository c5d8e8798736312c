"""Which files to tail: the `files` inputs expanded, minus the exclusions.

An input is a file, a glob (`/var/log/nginx/*.log`, `/srv/**/app.log`) or a directory, which
means the files in it and below whose names match `include` (LogDNA's rule: `*.log` and names
without an extension). A file named explicitly is watched even before it exists. Exclusions are
globs on the whole path (`*.gz`, `/var/log/pods/**`) and regexes (`exclude_regex`).

A scan of a directory of ten thousand files must stay cheap: the globs are compiled into one
regex each, the verdict for a path is remembered, and a directory is listed again only when its
modification time changed.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import time

from timberyard.agent.config import AgentConfig, FileInput

NO_EXTENSION = "!(*.*)"  # LogDNA's extended glob for names without a dot
SETTLED_NS = 2_000_000_000  # a directory changed this recently is listed again whatever its mtime says


def _globs(patterns: list[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(pattern) for pattern in patterns if pattern != NO_EXTENSION]
    return re.compile("|".join(parts)) if parts else None


class Discovery:
    def __init__(self, config: AgentConfig) -> None:
        self.inputs = list(config.files)
        if config.kubernetes:
            self.inputs.append(FileInput(path=[os.path.join(config.kubernetes_path, "*.log")]))
        self._exclude = _globs(config.exclude)
        self._exclude_regex = re.compile("|".join(f"(?:{p})" for p in config.exclude_regex)) if config.exclude_regex else None
        self._include = _globs(config.include)
        self._include_bare = NO_EXTENSION in config.include
        self._input_exclude = {id(item): _globs(item.exclude) for item in self.inputs}
        self._verdicts: dict[tuple[int, str], bool] = {}
        self._listings: dict[str, tuple[int, list[str], list[str]]] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}

    def scan(self) -> dict[str, FileInput]:
        """Every path to watch now, with the input it came from (the first input wins)."""
        found: dict[str, FileInput] = {}
        for item in self.inputs:
            for pattern in item.path:
                for path in self._expand(pattern):
                    if path not in found and self._wanted(item, path):
                        found[path] = item
        return found

    def _expand(self, pattern: str) -> list[str]:
        directory, name = os.path.split(pattern)
        if glob.has_magic(name) and not glob.has_magic(directory) and "**" not in name:
            matcher = self._patterns.get(name) or self._patterns.setdefault(name, re.compile(fnmatch.translate(name)))
            files, dirs = self._listing(directory)
            return [os.path.join(directory, found) for found in files if matcher.match(found)] + [
                path for found in dirs if matcher.match(found) for path in self._walk(os.path.join(directory, found))]
        if glob.has_magic(pattern):
            matches = glob.glob(pattern, recursive=True)
            return [path for match in matches for path in (self._walk(match) if os.path.isdir(match) else [match])]
        if os.path.isdir(pattern):
            return self._walk(pattern)
        return [pattern]  # watched even while it does not exist

    def _walk(self, directory: str) -> list[str]:
        """Files under `directory` (symlinked files followed, symlinked directories not) named as `include` says."""
        paths: list[str] = []
        pending = [directory]
        while pending:
            current = pending.pop()
            files, dirs = self._listing(current)
            paths.extend(os.path.join(current, name) for name in files if self._named(name))
            pending.extend(os.path.join(current, name) for name in dirs)
        return paths

    def _listing(self, directory: str) -> tuple[list[str], list[str]]:
        """Names of the files and directories in `directory`. A directory whose modification time
        did not change (and is not so recent that a coarse clock could hide a change) is not
        listed again: an idle tree of ten thousand files costs one stat per directory."""
        try:
            mtime = os.stat(directory).st_mtime_ns
        except OSError:
            return [], []
        cached = self._listings.get(directory)
        if cached is not None and cached[0] == mtime and time.time_ns() - mtime > SETTLED_NS:
            return cached[1], cached[2]
        files, dirs = [], []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            dirs.append(entry.name)
                        elif entry.is_file():
                            files.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            return [], []
        self._listings[directory] = (mtime, files, dirs)
        return files, dirs

    def _named(self, name: str) -> bool:
        return (self._include_bare and "." not in name) or (self._include is not None and self._include.match(name) is not None)

    def _wanted(self, item: FileInput, path: str) -> bool:
        key = (id(item), path)
        verdict = self._verdicts.get(key)
        if verdict is None:
            own = self._input_exclude[id(item)]
            verdict = not (
                (self._exclude is not None and self._exclude.match(path))
                or (own is not None and own.match(path))
                or (self._exclude_regex is not None and self._exclude_regex.search(path))
            )
            if len(self._verdicts) > 200_000:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict
