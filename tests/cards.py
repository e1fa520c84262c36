"""Business cards drawn with Pillow for the OCR tests and the benchmark.

Chinese and English cards in two layouts (left-aligned stack; name block left, contacts right),
rotated a few degrees and JPEG-compressed as a phone camera would, drawn with the CJK font CI
installs (fonts-wqy-microhei).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)


def cjk_font() -> Path | None:
    return next((path for path in CJK_FONTS if path.exists()), None)


@dataclass(frozen=True)
class Card:
    """What is printed on the card, and so what must be read from it."""

    company: str
    person: str
    title: str
    mobile: str  # as printed
    mobile_digits: str
    landline: str  # as printed
    landline_key: str  # as extracted: 0571-87654321
    email: str
    address: str
    chinese: bool
    layout: int  # 0: one column; 1: name left, contacts right
    angle: float


CARDS = (
    Card("杭州华丰建材有限公司", "徐亮", "销售经理", "+86 137-0404-9619", "13704049619",
         "0571-8765 4321", "0571-87654321", "xu.liang@huafeng.cn", "杭州市西湖区文三路138号",
         True, 0, 3),
    Card("成都康乐零售有限公司", "杨磊", "采购总监", "133 2971 1691", "13329711691",
         "028-6512 3456", "028-65123456", "yanglei@kangle.com", "成都市武侯区天府大道北段28号",
         True, 1, -2.5),
    Card("深圳市恒达电子科技有限公司", "陈静", "总经理", "+86 15986721234", "15986721234",
         "(0755) 2345 6789", "0755-23456789", "chenjing@hengda-tech.cn",
         "深圳市南山区科技园南区高新南一道9号", True, 0, -3),
    Card("南京金陵食品公司", "刘洋", "区域经理", "189-5160-7788", "18951607788",
         "025-8456 7890", "025-84567890", "liuyang@jlfood.com", "南京市鼓楼区中山北路105号",
         True, 1, 2),
    Card("苏州汇通物流有限公司", "周敏", "客户经理", "１７６ １２３４ ５６７８",
         "17612345678", "0512-6789 1234", "0512-67891234", "zhoumin@huitong56.com",
         "苏州市工业园区星湖街328号", True, 0, 1.5),
    Card("Brightway Trading Co., Ltd.", "Alice Chen", "Sales Director", "+86 139 1234 5678",
         "13912345678", "(021) 6288 1234", "021-62881234", "alice@brightway.com",
         "88 Century Ave, Pudong, Shanghai", False, 0, -2),
    Card("Evergreen Foods Co., Ltd.", "David Wang", "Purchasing Manager", "+86-186-0215-3344",
         "18602153344", "+86 10 6523 8899", "010-65238899", "david.wang@evergreenfoods.cn",
         "Room 1203, 66 Jianguo Road, Beijing", False, 1, 2.5),
    Card("Pacific Rim Logistics Ltd.", "Grace Liu", "Account Manager", "158 0211 6677",
         "15802116677", "020-8765 4321", "020-87654321", "grace.liu@pacrim.com",
         "18 Tianhe Road, Guangzhou", False, 0, 3),
    Card("Orient Machinery Co., Ltd.", "Kevin Zhang", "Chief Engineer", "+86 135 7000 2468",
         "13570002468", "0512-6655 7788", "0512-66557788", "kevin@orientmach.com",
         "9 Suhong Road, Suzhou Industrial Park", False, 1, -1.5),
    Card("Golden Bridge Trading Company", "Linda Zhao", "Regional Sales Manager",
         "199 8765 4321", "19987654321", "(025) 8333 2211", "025-83332211",
         "linda.zhao@goldenbridge.cn", "128 Zhongshan Road, Nanjing", False, 0, -3),
)  # fmt: skip


def _labels(card: Card) -> tuple[str, str, str, str]:
    if card.chinese:
        return "手机：", "电话：", "邮箱：", "地址："
    return "Mobile: ", "Tel: ", "Email: ", "Add: "


def draw_card(card: Card, font_path: Path) -> bytes:
    """The card as a JPEG photo: 90 x 54 mm at about 10 px/mm, slightly rotated."""
    image = Image.new("RGB", (900, 540), (250, 248, 240))
    draw = ImageDraw.Draw(image)

    def font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(font_path), size)

    mobile, tel, mail, add = _labels(card)
    contacts = [f"{mobile}{card.mobile}", f"{tel}{card.landline}", f"{mail}{card.email}"]
    draw.rectangle((0, 0, 900, 14), fill=(30, 80, 150))
    if card.layout == 0:
        draw.text((50, 40), card.company, font=font(36), fill=(30, 80, 150))
        draw.text((50, 110), card.person, font=font(50), fill=(20, 20, 30))
        draw.text((50, 180), card.title, font=font(26), fill=(90, 90, 90))
        y = 250
        for line in [*contacts, f"{add}{card.address}"]:
            draw.text((50, y), line, font=font(26), fill=(20, 20, 30))
            y += 52
    else:
        draw.text((50, 60), card.person, font=font(52), fill=(20, 20, 30))
        draw.text((50, 135), card.title, font=font(26), fill=(90, 90, 90))
        draw.line((50, 190, 850, 190), fill=(30, 80, 150), width=2)
        draw.text((50, 215), card.company, font=font(32), fill=(30, 80, 150))
        y = 285
        for line in contacts:
            draw.text((50, y), line, font=font(24), fill=(20, 20, 30))
            y += 44
        draw.text((50, y), f"{add}{card.address}", font=font(24), fill=(20, 20, 30))
    rotated = image.rotate(card.angle, expand=True, fillcolor=(200, 200, 195),
                           resample=Image.Resampling.BICUBIC)  # fmt: skip
    out = io.BytesIO()
    rotated.save(out, "JPEG", quality=70)
    return out.getvalue()


def not_a_card() -> bytes:
    """A photo of something else: a shelf of boxes, no text."""
    image = Image.new("RGB", (800, 600), (200, 190, 170))
    draw = ImageDraw.Draw(image)
    for row in range(4):
        for column in range(6):
            x, y = 30 + column * 125, 40 + row * 140
            draw.rectangle((x, y, x + 100, y + 110), fill=(180 - row * 20, 60 + column * 25, 50))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()
