"""The sandbox LMS: a small web app with Open edX-like routes over MariaDB and Redis."""
