"""Service operations: the rules of the application and its transactions.

Services never read Flask request globals; the acting user is passed in.
"""
