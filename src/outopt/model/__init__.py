"""The mathematical model: compiled data (``data.py``) and the Pyomo formulation (``portfolio.py``)."""
