"""Copy the Loghub rows the test suite reads from the Loghub 2k samples into this folder.

    .venv/bin/python tests/data/loghub-2k/make_subset.py /path/to/loghub-2k

See README.md here for what is kept and why. The source is the 2k samples of Loghub with the
corrected ground truth of Loghub 2.0 (`loghub-2k/<DS>/...`); the output is deterministic.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Datasets whose structured CSV has a Level column: their raw lines and levels, all 2,000.
LEVELLED = ("Apache", "BGL", "HDFS", "Hadoop", "Spark", "Zookeeper")
# Every dataset bench/corpus.py knows: the templates and the first rows of the structured CSV.
ALL = ("Apache", "BGL", "HDFS", "HPC", "Hadoop", "OpenSSH", "Spark", "Zookeeper")
STRUCTURED_ROWS = 300


def main(source: Path) -> None:
    shutil.copyfile(source / "LICENSE.txt", HERE / "LICENSE.txt")
    for dataset in ALL:
        src, dst = source / dataset, HERE / dataset
        dst.mkdir(exist_ok=True)
        base = f"{dataset}_2k.log"
        shutil.copyfile(src / f"{base}_templates_corrected.csv", dst / f"{base}_templates_corrected.csv")
        structured = (src / f"{base}_structured_corrected.csv").read_bytes()
        lines = structured.splitlines(keepends=True)
        # The header and the first rows, byte for byte (no field of these files spans lines).
        (dst / f"{base}_structured_corrected.csv").write_bytes(b"".join(lines[: STRUCTURED_ROWS + 1]))
        rows = list(csv.reader(structured.decode("utf-8").splitlines()))
        header, rows = rows[0], rows[1:]
        assert len(rows) == len(lines) - 1, f"{dataset}: a field spans lines"
        if dataset in LEVELLED:
            shutil.copyfile(src / base, dst / base)
            level = header.index("Level")
            with (dst / f"{base}_levels.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(["LineId", "Level"])
                writer.writerows([row[0], row[level]] for row in rows)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
