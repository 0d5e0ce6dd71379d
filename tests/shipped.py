"""What this repository ships, written down independently of the code that reads it (an expectation, not config)."""

SHIPPED_PLANS: dict[str, str] = {
    "500000": "003_0d11fb7ed90ad6b5.txt",
    "500235": "000_2e7bb5e9f614147b.txt",
    "500102": "001_ae86d29fb66c2de9.txt",
    "500243": "002_eefb3a1e320b8b53.txt",
    "500229": "004_692d394dc8e87a94.txt",
}
