"""The edge: reading exports, writing files (CSV, xlsx, PDF, UBL, charts), the SQLite register and the output folder."""
