"""The contract: columns and codes, the one cell reader, rules as data, the failure table and errors.

Everything else builds on this layer; it imports nothing else of selector.
"""
