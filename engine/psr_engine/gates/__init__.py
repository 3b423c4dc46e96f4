"""Security gates: code analysis, secret scanning and dependency advisories, with findings in
one shape (findings.py) and SARIF 2.1.0 for each. Scanners import their tools lazily."""
