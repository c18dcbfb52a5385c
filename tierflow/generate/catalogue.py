"""The demo shop: what it sells, through which channels, in which cities and stores, and in which currencies.

Shared by the customer population (preferences, home store, currency) and the rows built from it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "apparel",
    "beauty",
    "electronics",
    "groceries",
    "home",
    "sports",
    "toys",
    "books",
)
CATEGORY_POPULARITY = np.array([0.22, 0.14, 0.10, 0.18, 0.12, 0.10, 0.06, 0.08])
CATEGORY_PRICE = np.array([1.0, 0.9, 2.6, 0.45, 1.3, 1.1, 0.8, 0.35])

CHANNELS: tuple[str, ...] = ("store", "web", "app", "mini_program")
CHANNEL_POPULARITY = np.array([0.30, 0.20, 0.33, 0.17])
STORE_CHANNEL = CHANNELS.index("store")
MINI_PROGRAM_CHANNEL = CHANNELS.index("mini_program")
N_STORES = 40


class City(NamedTuple):
    name: str
    region: str
    weight: float  # share of the customer base, relative
    stores: int  # consecutive store numbers, in the order of CITIES
    spend: float  # basket value factor: tier-1 cities spend a little more


CITIES: tuple[City, ...] = (
    City("Shanghai", "East China", 12.0, 5, 1.25),
    City("Hangzhou", "East China", 6.0, 3, 1.1),
    City("Nanjing", "East China", 4.0, 2, 1.0),
    City("Suzhou", "East China", 4.0, 2, 1.05),
    City("Xiamen", "East China", 2.0, 0, 1.0),
    City("Beijing", "North China", 11.0, 5, 1.25),
    City("Tianjin", "North China", 4.0, 2, 0.95),
    City("Shijiazhuang", "North China", 2.0, 1, 0.85),
    City("Guangzhou", "South China", 8.0, 4, 1.1),
    City("Shenzhen", "South China", 8.0, 4, 1.2),
    City("Nanning", "South China", 2.0, 1, 0.85),
    City("Wuhan", "Central China", 5.0, 2, 0.95),
    City("Changsha", "Central China", 3.0, 1, 0.9),
    City("Zhengzhou", "Central China", 3.0, 1, 0.85),
    City("Chengdu", "Southwest", 6.0, 2, 1.0),
    City("Chongqing", "Southwest", 5.0, 2, 0.9),
    City("Kunming", "Southwest", 2.0, 1, 0.85),
    City("Xi'an", "Northwest", 3.0, 1, 0.9),
    City("Lanzhou", "Northwest", 1.0, 0, 0.8),
    City("Urumqi", "Northwest", 1.0, 0, 0.8),
    City("Shenyang", "Northeast", 3.0, 1, 0.85),
    City("Harbin", "Northeast", 2.0, 0, 0.8),
    City("Dalian", "Northeast", 2.0, 0, 0.9),
)

# Units per USD, as in the fx_rates seed; only these currencies can be converted downstream.
FX_UNITS_PER_USD: dict[str, float] = {
    "USD": 1.0,
    "CNY": 7.2,
    "HKD": 7.8,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 150.0,
    "SGD": 1.35,
}
# Home currency, then two foreign ones (cross-border shoppers pay in their own currency).
CURRENCY_SHARES = np.array([0.96, 0.025, 0.015])


def currency_mix(home: str) -> list[str]:
    """The run's currencies, in the order of CURRENCY_SHARES: the home currency and two foreign ones."""
    return [home, *[c for c in ("USD", "HKD", "CNY") if c != home][:2]]
