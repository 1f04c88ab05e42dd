"""Paper printouts of ECG records: layouts and style (:mod:`.paper`), the OpenCV renderer
(:mod:`.opencv_renderer`), the matplotlib reference (:mod:`.mpl_renderer`), photo
augmentations (:mod:`.photo`) and rendering a dataset to a folder (:mod:`.batch`,
:mod:`.manifest`)."""

from ecgtf.render.paper import LAYOUTS, PaperStyle, get_layout

__all__ = ["LAYOUTS", "PaperStyle", "get_layout"]
