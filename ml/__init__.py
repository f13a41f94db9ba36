"""GenreWeb machine learning: audio I/O, features, models, bundles, training and inference.

No Django here; the web side imports only from :mod:`ml.inference`.
"""
