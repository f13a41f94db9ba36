"""Business logic: services write, selectors (classifier.selectors) read.

Views, API views and tasks call these functions; they never touch the model or files directly.
"""
