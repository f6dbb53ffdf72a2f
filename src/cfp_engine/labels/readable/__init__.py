"""The readable label and calculation report, in English and Japanese."""
