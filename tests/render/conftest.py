"""A small factory of Parcel objects for renderer tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from pddbatch.model import Parcel
from pddbatch.render.settings import RenderSettings
from tests.render.render_factory import make_parcel


@pytest.fixture
def settings() -> RenderSettings:
    return RenderSettings(shop_name="小美的店", sender_name="李四", sender_phone="0571-88886666",
                          sender_address="浙江省杭州市余杭区仓前街道梦想小镇 8 号仓库",
                          printed_at=datetime(2026, 5, 17, 14, 3), workers=1)


ParcelFactory = Callable[..., Parcel]


@pytest.fixture
def parcel() -> ParcelFactory:
    return make_parcel


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path
