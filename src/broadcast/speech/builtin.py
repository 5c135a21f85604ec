"""Built-in readings: the floor under every lexicon.yaml.

Units, symbols and domain endings are fixed Vietnamese; the abbreviations
are the ones every official letter uses, so ``normalize(text)`` is useful
without a project.  Staff override or extend them in lexicon.yaml.
"""

from __future__ import annotations

from .lexicon import Lexicon

ABBREVIATIONS = {
    # Chính quyền, đoàn thể
    "UBND": "ủy ban nhân dân", "HĐND": "hội đồng nhân dân", "UB": "ủy ban",
    "MTTQ": "mặt trận tổ quốc", "UBMTTQ": "ủy ban mặt trận tổ quốc",
    "TW": "trung ương", "TƯ": "trung ương", "BCH": "ban chấp hành", "BCĐ": "ban chỉ đạo",
    "CT": "chủ tịch", "PCT": "phó chủ tịch", "VT": "văn thư", "VP": "văn phòng", "HTX": "hợp tác xã",
    "TP.": "thành phố", "TP": "thành phố", "Tp.": "thành phố", "TX.": "thị xã", "TT.": "thị trấn",
    "TP.HCM": "thành phố hồ chí minh", "HCM": "hồ chí minh", "VN": "việt nam",
    "TM.": "thay mặt", "KT.": "ký thay", "TL.": "thừa lệnh", "TUQ.": "thừa ủy quyền",
    "V/v": "về việc", "v/v": "về việc",
    # Ngành thông tin, giáo dục, công an
    "STTTT": "sở thông tin và truyền thông", "BTTTT": "bộ thông tin và truyền thông",
    "TT&TT": "thông tin và truyền thông", "TTTT": "thông tin và truyền thông",
    "CNTT": "công nghệ thông tin", "BCVT": "bưu chính viễn thông",
    "TTBCXB": "thông tin báo chí xuất bản", "VHTT": "văn hóa thông tin",
    "ATTT": "an toàn thông tin", "ANM": "an ninh mạng", "CNC": "công nghệ cao",
    "GD": "giáo dục", "PGD": "phòng giáo dục", "GD&ĐT": "giáo dục và đào tạo",
    "GDĐT": "giáo dục và đào tạo", "THCS": "trung học cơ sở", "THPT": "trung học phổ thông",
    "CA": "công an", "CAT": "công an tỉnh", "CAX": "công an xã", "CAND": "công an nhân dân", "ANTT": "an ninh trật tự",
    "CSGT": "cảnh sát giao thông", "ATGT": "an toàn giao thông", "PCCC": "phòng cháy chữa cháy",
    "QĐND": "quân đội nhân dân", "TAND": "tòa án nhân dân", "VKSND": "viện kiểm sát nhân dân",
    "BHXH": "bảo hiểm xã hội", "BHYT": "bảo hiểm y tế",
    "CCCD": "căn cước công dân", "CMND": "chứng minh nhân dân", "SĐT": "số điện thoại",
    "STK": "số tài khoản", "PIN": "pin",
    # Văn bản
    "QĐ": "quyết định", "NĐ": "nghị định", "CP": "chính phủ", "TTg": "thủ tướng",
    "NĐ-CP": "nghị định chính phủ", "QĐ-TTg": "quyết định thủ tướng", "CT-TTg": "chỉ thị thủ tướng",
    "TT-BTTTT": "thông tư bộ thông tin và truyền thông",
    "CSHS": "cảnh sát hình sự", "CSKV": "cảnh sát khu vực", "ANĐT": "an ninh điều tra",
    "ĐTV": "điều tra viên", "BCA": "bộ công an", "BQP": "bộ quốc phòng", "BĐBP": "bộ đội biên phòng",
    "QH": "quốc hội", "ĐBQH": "đại biểu quốc hội", "VPCP": "văn phòng chính phủ", "UBKT": "ủy ban kiểm tra",
    "HLHPN": "hội liên hiệp phụ nữ", "CCB": "cựu chiến binh", "ĐTN": "đoàn thanh niên",
    "CBCCVC": "cán bộ công chức viên chức", "CBCC": "cán bộ công chức", "CB": "cán bộ",
    "TDP": "tổ dân phố", "KDC": "khu dân cư", "KCN": "khu công nghiệp", "TTHC": "thủ tục hành chính",
    "KT-XH": "kinh tế xã hội", "TNXH": "tệ nạn xã hội", "VH-TT": "văn hóa thông tin",
    "Đ/c": "đồng chí", "đ/c": "đồng chí", "Đ/C": "đồng chí",
    # Lịch, liên hệ, đường
    "T2": "thứ hai", "T3": "thứ ba", "T4": "thứ tư", "T5": "thứ năm", "T6": "thứ sáu", "T7": "thứ bảy",
    "CN": "chủ nhật", "ĐT": "điện thoại", "ĐTDĐ": "điện thoại di động", "QL": "quốc lộ",
    "GPLX": "giấy phép lái xe", "MXH": "mạng xã hội", "TK": "tài khoản",
    # Ngân hàng, doanh nghiệp
    "NH": "ngân hàng", "NHNN": "ngân hàng nhà nước", "NHTM": "ngân hàng thương mại",
    "TMCP": "thương mại cổ phần", "TNHH": "trách nhiệm hữu hạn", "CTCP": "công ty cổ phần",
    # Công nghệ, tiền
    "USD": "đô la Mỹ", "VNĐ": "việt nam đồng", "VND": "việt nam đồng",
    "OTP": "ô tê pê", "USDT": "u ét đê tê", "SMS": "ét em ét", "ATM": "a tê em",
    "QR": "cu a", "ID": "ai đi", "AI": "ây ai", "IT": "ai ti",
    # Vân vân
    "v.v...": "vân vân", "v.v..": "vân vân", "v.v.": "vân vân", "v.v": "vân vân",
    "vv...": "vân vân", "vv..": "vân vân", "vv.": "vân vân", "vv": "vân vân",
}

DOMAINS = {
    "vn": "vê en", "gov": "gờ o vê", "com": "com", "net": "nét", "org": "o rờ gờ",
    "edu": "e đu", "info": "in phô", "io": "i ô", "www": "vê kép vê kép vê kép",
    "http": "hát tê tê pê", "https": "hát tê tê pê ét",
}

BUILTIN = Lexicon(ABBREVIATIONS, {}, DOMAINS, source="built-in")

# Units after a number ("10km", "2,5%", "500.000đ").  Case-sensitive.
UNITS = {
    "%": "phần trăm", "đ": "đồng", "VNĐ": "đồng", "VND": "đồng", "vnđ": "đồng",
    "USD": "đô la Mỹ", "km/h": "ki lô mét trên giờ", "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông", "km": "ki lô mét", "kg": "ki lô gam", "cm": "xen ti mét",
    "mm": "mi li mét", "m²": "mét vuông", "m2": "mét vuông", "m³": "mét khối",
    "m3": "mét khối", "m": "mét", "ha": "héc ta", "g": "gam", "ml": "mi li lít",
    "GB": "gi ga bai", "MB": "mê ga bai", "KB": "ki lô bai", "TB": "tê ra bai",
    "Mbps": "mê ga bít trên giây", "°C": "độ xê", "°": "độ", "tr": "triệu",
    "k": "nghìn", "K": "nghìn",
    "h": "giờ",  # "trong 48h", "5-10h": hours beyond a time of day (7h30 is a time, rules.py)
}

# Currency signs written before the number ("$100").
CURRENCY_PREFIX = {"$": "đô la", "€": "ơ rô", "£": "bảng Anh"}

# Symbols on their own; "/" and "-" depend on their neighbours (rules.py).
SYMBOLS = {
    "&": " và ", "+": " cộng ", "~": " khoảng ", "=": " bằng ", ">": " lớn hơn ",
    "<": " nhỏ hơn ", "≥": " lớn hơn hoặc bằng ", "≤": " nhỏ hơn hoặc bằng ",
    "%": " phần trăm ", "@": " a còng ", "$": " đô la ", "€": " ơ rô ", "£": " bảng Anh ",
    "°": " độ ", "№": " số ", "×": " nhân ", "÷": " chia ", "±": " cộng trừ ",
    "(": ", ", ")": ", ", "[": ", ", "]": ", ", "|": ", ", "•": ", ",
    "{": " ", "}": " ", '"': " ", "'": "", "*": " ", "_": " ", "^": " ", "`": " ",
    "\\": " ", "#": " ", "§": " điều ",
}

# Symbols inside URLs and e-mail addresses.
URL_SYMBOLS = {
    ".": "chấm", "/": "gạch chéo", "-": "gạch ngang", "_": "gạch dưới", "@": "a còng",
    ":": "hai chấm", "?": "chấm hỏi", "=": "bằng", "&": "và", "#": "thăng",
    "%": "phần trăm", "~": "ngã", "+": "cộng",
}

# After these, "a/b" reads "a trên b" ("đồng/tháng"); otherwise a pause.
PER_WORDS = frozenset(
    ["ngày", "tháng", "năm", "giờ", "tuần", "phút", "giây", "người", "lần", "lượt", "hộ", "ha", "km", "kg", "m2", "cái", "chiếc", "suất",
     "lít", "đơn", "hộp", "chai", "gói", "tấn", "lớp", "thôn", "xã", "lượng", "cây", "con", "bao"]
)

# Words after a number that mean it is a quantity, not a day, month or phone.
QUANTITY_WORDS = frozenset(
    ["nghìn", "ngàn", "triệu", "tỷ", "đồng", "người", "lần", "lượt", "vụ", "cái", "chiếc", "hộ", "trường", "tài", "khoản"]
)
