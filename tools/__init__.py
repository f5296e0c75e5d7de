"""The course's own machinery: the runner (``make run``, README tables), the bench, the speed
levers and the notebook helpers they share.

Not part of the ``shared`` package that notebooks import and Colab installs: nothing here is
installed by ``pip install .``, and no notebook imports it.
"""
