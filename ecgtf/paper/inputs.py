"""A printout as a model's input (``predict.py --input IMAGES``).

Every model reads paper through the digitiser: the page is read, digitised at 500 Hz and its
unshown stretches filled beat by beat (:mod:`ecgtf.paper.impute`). A signal model (or an
ensemble, or a final predictor) then gets that record decoded as its run decodes records
(resampled, filtered); an image model gets it redrawn by its own run's renderer, so a page from
any machine reaches it in the look it was trained on, at the scale it was trained on.
"""

from __future__ import annotations

import numpy as np

from ecgtf.data.record import Record, RecordError
from ecgtf.paper.digitize import digitize_reading
from ecgtf.paper.errors import PageReadError
from ecgtf.paper.impute import fill_unshown
from ecgtf.paper.layout import LEAD_NAMES
from ecgtf.paper.reader import read_page

DIGITIZE_RATE_HZ = 500.0


def page_summary(reading) -> dict:
    """The page reader's findings in a few fields, for a JSON line."""
    d = reading.describe()
    return {"layout": d["layout"]["name"], "angle_deg": d["deskew"]["angle_deg"],
            "px_per_mm": [d["grid"]["px_per_mm_x"], d["grid"]["px_per_mm_y"]], "scale_from": d["grid"]["from"],
            "duration_s": d["layout"]["duration_s"], "calibration_pulses": d["calibration_pulses"],
            "confidence": d["confidence"]}


def printout_record(path: str, record_id: str, lead_names=()) -> tuple[Record, list[str], dict]:
    """``(record, notes, page)``: the printout at ``path`` as a filled 12-lead record at 500 Hz.

    Raises:
        RecordError: the page reader refused the page (its one-line reason).
    """
    try:
        reading = read_page(path)
    except PageReadError as err:
        raise RecordError(record_id, f"printout not read: {err}") from None
    signal = digitize_reading(reading, DIGITIZE_RATE_HZ)
    shown = [lead for lead, col in zip(LEAD_NAMES, signal.T) if not np.isnan(col).all()]
    missing = [lead for lead in LEAD_NAMES if lead not in shown]
    if missing:
        raise RecordError(record_id, f"printout ({reading.layout}) does not show lead(s) {', '.join(missing)}")
    filled, found = fill_unshown(signal, DIGITIZE_RATE_HZ)
    page = page_summary(reading)
    notes = [f"printout digitised: {page['layout']}, {page['duration_s']:g} s, angle {page['angle_deg']:g} deg, "
             f"{page['px_per_mm'][0]:.2f} px/mm ({page['scale_from']}), confidence {page['confidence']:g}"]
    if found.get("filled"):
        flat = [LEAD_NAMES[i] for i in found["flat_leads"]]
        notes.append(f"unshown stretches filled from each lead's median beat at the page's {found['qrs']} QRS "
                     "complexes" + (f"; no complete beat, filled flat: {', '.join(flat)}" if flat else ""))
    names = list(LEAD_NAMES)
    if lead_names and len(lead_names) == 1:
        wanted = str(lead_names[0]).lower()
        pick = next((i for i, n in enumerate(LEAD_NAMES) if n.lower() == wanted), LEAD_NAMES.index("II"))
        notes.append(f"one-lead model: lead {LEAD_NAMES[pick]} of the printout")
        filled, names = filled[:, [pick]], [lead_names[0]]
    return Record(record_id, filled, tuple(names), DIGITIZE_RATE_HZ), notes, page
