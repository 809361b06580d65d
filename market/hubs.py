"""The five trade hubs of New Eden: region -> the NPC station where its trade concentrates
(ids checked against the SDE by the tests)."""

HUB_STATIONS: dict[int, int] = {
    10000002: 60003760,  # The Forge: Jita IV - Moon 4 - Caldari Navy Assembly Plant
    10000043: 60008494,  # Domain: Amarr VIII (Oris) - Emperor Family Academy
    10000032: 60011866,  # Sinq Laison: Dodixie IX - Moon 20 - Federation Navy Assembly Plant
    10000030: 60004588,  # Heimatar: Rens VI - Moon 8 - Brutor Tribe Treasury
    10000042: 60005686,  # Metropolis: Hek VIII - Moon 12 - Boundless Creation Factory
}
