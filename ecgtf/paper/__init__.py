"""Reading printouts back: a page reader (deskew, grid scale, layout, panels) and a digitiser
that turns a scan or photo of an ECG printout into a 12-lead signal in mV.

``read_page(path_or_array)`` describes a page or raises :class:`PageReadError` naming the step
that failed; ``digitize_reading(reading, rate)`` gives ``(samples, 12)`` mV with NaN where the
page does not show a lead; :mod:`ecgtf.paper.batch` writes WFDB records, a manifest and overlays.
"""

from ecgtf.paper.digitize import digitize_reading
from ecgtf.paper.errors import PageReadError
from ecgtf.paper.layout import LEAD_NAMES, LAYOUTS
from ecgtf.paper.reader import PageReading, read_page

__all__ = ["LAYOUTS", "LEAD_NAMES", "PageReadError", "PageReading", "digitize_reading", "read_page"]
