"""newsmon crawler: Scrapy project, parsers, CLI and scheduler."""
