"""Order rules R1-R7: classify every payment attempt, decide per rule in SQL, keep an audit row each."""
