"""Local replica of www.rp.pl/dyplomacja served over real HTTP, for newsmon's tests.

    from tests.replica import ReplicaServer, ReplicaSite
    with ReplicaServer(ReplicaSite.default()) as server:
        crawl(server.base_url)
        server.site.expected("40671561")

See README.md for the cases, the ground truth and fault injection.
"""

from .model import Article, Author, Block, Card, Image
from .server import FAULT_KINDS, Faults, ReplicaServer, RequestRecord
from .site import ReplicaSite

__all__ = ["FAULT_KINDS", "Article", "Author", "Block", "Card", "Faults", "Image",
           "ReplicaServer", "ReplicaSite", "RequestRecord"]
