"""The public PDF of a document that holds personal data (去标识化 公开版).

The public never downloads such a document's original. It gets a PDF made from it in a
sandboxed child (``renderer``): every page rendered to pixels (``pages``: PDF and scans by
PDFium, images by Pillow, Word files through LibreOffice's PDF export), the characters the
public copy masks found on the page (``covers``: by their text positions, or the OCR line
boxes of a scanned page) and painted over in the pixels, and the pages written as images
(``pdf_writer``). Nothing of the original's text layer is carried over, so a covered number
is gone from the file's text and from its image. A file whose pages cannot be rendered (OFD,
plain text) or where a masked value could not be located on its page gets the public copy's
text typeset instead (``typeset``). ``service.public_copy`` builds, stores and serves it.
"""
