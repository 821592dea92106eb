"""Tables as downloadable bytes, built in memory (nothing is written to disk)."""

from __future__ import annotations

import io

import pandas as pd


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as UTF-8 CSV bytes, for a download button.

    >>> to_csv_bytes(pd.DataFrame({"a": [1], "b": ["x,y"]}))
    b'a,b\\n1,"x,y"\\n'
    """
    return frame.to_csv(index=False).encode("utf-8")


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as Parquet bytes (via pyarrow), for a download button.

    >>> import pyarrow.parquet as pq
    >>> pq.read_table(io.BytesIO(to_parquet_bytes(pd.DataFrame({"a": [1, 2]})))).to_pydict()
    {'a': [1, 2]}
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()
