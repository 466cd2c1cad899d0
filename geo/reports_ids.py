"""Give each report a stable identity: by partner reference, else by content and ordinal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.util.hashing import combine_hash_arrays

_HASH_KEYS = ("beatplan-report1", "beatplan-report2")
_STR = "string[pyarrow]"


def content_ids(content: pd.DataFrame, accepted: pd.Series) -> pd.Series:
    """Identify rows by their content plus their ordinal among identical accepted rows.

    Parameters
    ----------
    content
        The values that make a report what it is, one column each (``lon``/``lat`` as whole
        micro-degrees); rejected rows must hold the same placeholder values.
    accepted
        Boolean mask of the accepted rows.

    Returns
    -------
    pandas.Series of str
        A 32-character hex id per row.
    """
    k1, k2 = _row_hashes(content)
    ordinal = pd.Series(0, index=content.index, dtype="int64")
    keys = pd.DataFrame({"k1": k1, "k2": k2})[accepted]
    ordinal[accepted] = keys.groupby(["k1", "k2"], sort=False).cumcount()
    return pd.Series(
        _hex128(*_row_hashes(pd.DataFrame({"k1": k1, "k2": k2, "n": ordinal}))),
        index=content.index,
    )


def reference_ids(
    rid: pd.Series, accepted: pd.Series, source: pd.Series, ref: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Identify rows that carry a reference by (source, reference) instead of content.

    Parameters
    ----------
    rid
        The content ids (:func:`content_ids`).
    accepted
        Boolean mask of the accepted rows.
    source
        Each row's source slug.
    ref
        Each row's reference text (blank or missing where there is none).

    Returns
    -------
    (rid, duplicates)
        The ids, and a mask of accepted rows repeating an earlier row's id in this file.
    """
    has_ref = (ref.notna() & (ref != "")).to_numpy(dtype=bool)
    if has_ref.all():
        parts = pd.DataFrame({"kind": "r", "source": source, "ref": ref})
        rid = pd.Series(_hex128(*_row_hashes(parts)), index=rid.index)
    elif has_ref.any():
        by_ref = _hex128(*_row_hashes(pd.DataFrame({"kind": "r", "source": source, "ref": ref})))
        rid = rid.where(~has_ref, pd.Series(by_ref, index=rid.index))
    return rid, accepted & rid.duplicated(keep="first")


def micro_degrees(values: pd.Series) -> np.ndarray:
    """Coordinates as whole micro-degrees (missing and absurd values clipped), for hashing.

    Parameters
    ----------
    values
        Degrees.

    Returns
    -------
    numpy.ndarray of int64
    """
    arr = np.clip(np.nan_to_num(values.to_numpy(dtype="float64"), nan=0.0), -1e4, 1e4)
    return np.round(arr * 1e6).astype("int64")


def _row_hashes(parts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each row (pandas' SipHash, fixed keys).

    The values of ``pandas.util.hash_pandas_object(parts, index=False, hash_key=k)`` with
    text missing as ``""``, computed with each text column dictionary-encoded once (its
    distinct values hashed per key) and each numeric column hashed once (numbers do not
    depend on the key): stored ids never change with the way they are computed.
    """
    if parts.empty:
        return np.zeros(len(parts), dtype=np.uint64), np.zeros(len(parts), dtype=np.uint64)
    per_key: dict[str, list[np.ndarray]] = {k: [] for k in _HASH_KEYS}
    for col in parts.columns:
        values = parts[col]
        if pd.api.types.is_numeric_dtype(values):
            hashed = pd.util.hash_array(values.to_numpy())
            for k in _HASH_KEYS:
                per_key[k].append(hashed)
            continue
        text = pa.chunked_array([pa.array(values.astype(_STR).fillna(""), type=pa.string())])
        encoded = pc.dictionary_encode(text).combine_chunks()
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        codes = encoded.indices.to_numpy()
        for k in _HASH_KEYS:
            if len(distinct):
                hashed = pd.util.hash_array(distinct, hash_key=k, categorize=False)
                per_key[k].append(hashed.take(codes))
            else:
                per_key[k].append(np.zeros(len(codes), dtype=np.uint64))
    width = len(parts.columns)
    return tuple(  # type: ignore[return-value]
        combine_hash_arrays(iter(per_key[k]), width, len(parts)) for k in _HASH_KEYS
    )


def _hex128(h1: np.ndarray, h2: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Render two uint64 arrays as one 32-character hex string per row, as Arrow-backed text."""
    both = np.empty((len(h1), 2), dtype=">u8")
    both[:, 0] = h1
    both[:, 1] = h2
    data = both.tobytes().hex().encode("ascii")
    offsets = np.arange(0, 32 * (len(h1) + 1), 32, dtype=np.int64)
    arr = pa.Array.from_buffers(
        pa.large_string(), len(h1), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return pd.array(arr.cast(pa.string()), dtype=_STR)
