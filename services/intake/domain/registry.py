"""The GECC registry: Thailand's provinces, the offices centers report through, and a
deterministic generator of a realistic registry (1,343 certified centers in 2022, 88 BMA)."""

import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from services.intake.domain.centers import Center

CENTERS_2022 = 1343
BMA_CENTERS_2022 = 88
BANGKOK = "TH-10"
ROOT = "PMO"

Bilingual = tuple[str, str]  # (Thai, English)


@dataclass(frozen=True)
class Province:
    code: str  # ISO 3166-2:TH
    name_th: str
    name_en: str


PROVINCES: tuple[Province, ...] = (
    Province("TH-10", "กรุงเทพมหานคร", "Bangkok"),
    Province("TH-11", "สมุทรปราการ", "Samut Prakan"),
    Province("TH-12", "นนทบุรี", "Nonthaburi"),
    Province("TH-13", "ปทุมธานี", "Pathum Thani"),
    Province("TH-14", "พระนครศรีอยุธยา", "Phra Nakhon Si Ayutthaya"),
    Province("TH-15", "อ่างทอง", "Ang Thong"),
    Province("TH-16", "ลพบุรี", "Lop Buri"),
    Province("TH-17", "สิงห์บุรี", "Sing Buri"),
    Province("TH-18", "ชัยนาท", "Chai Nat"),
    Province("TH-19", "สระบุรี", "Saraburi"),
    Province("TH-20", "ชลบุรี", "Chon Buri"),
    Province("TH-21", "ระยอง", "Rayong"),
    Province("TH-22", "จันทบุรี", "Chanthaburi"),
    Province("TH-23", "ตราด", "Trat"),
    Province("TH-24", "ฉะเชิงเทรา", "Chachoengsao"),
    Province("TH-25", "ปราจีนบุรี", "Prachin Buri"),
    Province("TH-26", "นครนายก", "Nakhon Nayok"),
    Province("TH-27", "สระแก้ว", "Sa Kaeo"),
    Province("TH-30", "นครราชสีมา", "Nakhon Ratchasima"),
    Province("TH-31", "บุรีรัมย์", "Buri Ram"),
    Province("TH-32", "สุรินทร์", "Surin"),
    Province("TH-33", "ศรีสะเกษ", "Si Sa Ket"),
    Province("TH-34", "อุบลราชธานี", "Ubon Ratchathani"),
    Province("TH-35", "ยโสธร", "Yasothon"),
    Province("TH-36", "ชัยภูมิ", "Chaiyaphum"),
    Province("TH-37", "อำนาจเจริญ", "Amnat Charoen"),
    Province("TH-38", "บึงกาฬ", "Bueng Kan"),
    Province("TH-39", "หนองบัวลำภู", "Nong Bua Lam Phu"),
    Province("TH-40", "ขอนแก่น", "Khon Kaen"),
    Province("TH-41", "อุดรธานี", "Udon Thani"),
    Province("TH-42", "เลย", "Loei"),
    Province("TH-43", "หนองคาย", "Nong Khai"),
    Province("TH-44", "มหาสารคาม", "Maha Sarakham"),
    Province("TH-45", "ร้อยเอ็ด", "Roi Et"),
    Province("TH-46", "กาฬสินธุ์", "Kalasin"),
    Province("TH-47", "สกลนคร", "Sakon Nakhon"),
    Province("TH-48", "นครพนม", "Nakhon Phanom"),
    Province("TH-49", "มุกดาหาร", "Mukdahan"),
    Province("TH-50", "เชียงใหม่", "Chiang Mai"),
    Province("TH-51", "ลำพูน", "Lamphun"),
    Province("TH-52", "ลำปาง", "Lampang"),
    Province("TH-53", "อุตรดิตถ์", "Uttaradit"),
    Province("TH-54", "แพร่", "Phrae"),
    Province("TH-55", "น่าน", "Nan"),
    Province("TH-56", "พะเยา", "Phayao"),
    Province("TH-57", "เชียงราย", "Chiang Rai"),
    Province("TH-58", "แม่ฮ่องสอน", "Mae Hong Son"),
    Province("TH-60", "นครสวรรค์", "Nakhon Sawan"),
    Province("TH-61", "อุทัยธานี", "Uthai Thani"),
    Province("TH-62", "กำแพงเพชร", "Kamphaeng Phet"),
    Province("TH-63", "ตาก", "Tak"),
    Province("TH-64", "สุโขทัย", "Sukhothai"),
    Province("TH-65", "พิษณุโลก", "Phitsanulok"),
    Province("TH-66", "พิจิตร", "Phichit"),
    Province("TH-67", "เพชรบูรณ์", "Phetchabun"),
    Province("TH-70", "ราชบุรี", "Ratchaburi"),
    Province("TH-71", "กาญจนบุรี", "Kanchanaburi"),
    Province("TH-72", "สุพรรณบุรี", "Suphan Buri"),
    Province("TH-73", "นครปฐม", "Nakhon Pathom"),
    Province("TH-74", "สมุทรสาคร", "Samut Sakhon"),
    Province("TH-75", "สมุทรสงคราม", "Samut Songkhram"),
    Province("TH-76", "เพชรบุรี", "Phetchaburi"),
    Province("TH-77", "ประจวบคีรีขันธ์", "Prachuap Khiri Khan"),
    Province("TH-80", "นครศรีธรรมราช", "Nakhon Si Thammarat"),
    Province("TH-81", "กระบี่", "Krabi"),
    Province("TH-82", "พังงา", "Phangnga"),
    Province("TH-83", "ภูเก็ต", "Phuket"),
    Province("TH-84", "สุราษฎร์ธานี", "Surat Thani"),
    Province("TH-85", "ระนอง", "Ranong"),
    Province("TH-86", "ชุมพร", "Chumphon"),
    Province("TH-90", "สงขลา", "Songkhla"),
    Province("TH-91", "สตูล", "Satun"),
    Province("TH-92", "ตรัง", "Trang"),
    Province("TH-93", "พัทลุง", "Phatthalung"),
    Province("TH-94", "ปัตตานี", "Pattani"),
    Province("TH-95", "ยะลา", "Yala"),
    Province("TH-96", "นราธิวาส", "Narathiwat"),
)

PROVINCE_BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}

# The 50 khet of Bangkok, in the BMA's own order (district codes 1001-1050).
BANGKOK_DISTRICTS: tuple[Bilingual, ...] = (
    ("พระนคร", "Phra Nakhon"),
    ("ดุสิต", "Dusit"),
    ("หนองจอก", "Nong Chok"),
    ("บางรัก", "Bang Rak"),
    ("บางเขน", "Bang Khen"),
    ("บางกะปิ", "Bang Kapi"),
    ("ปทุมวัน", "Pathum Wan"),
    ("ป้อมปราบศัตรูพ่าย", "Pom Prap Sattru Phai"),
    ("พระโขนง", "Phra Khanong"),
    ("มีนบุรี", "Min Buri"),
    ("ลาดกระบัง", "Lat Krabang"),
    ("ยานนาวา", "Yan Nawa"),
    ("สัมพันธวงศ์", "Samphanthawong"),
    ("พญาไท", "Phaya Thai"),
    ("ธนบุรี", "Thon Buri"),
    ("บางกอกใหญ่", "Bangkok Yai"),
    ("ห้วยขวาง", "Huai Khwang"),
    ("คลองสาน", "Khlong San"),
    ("ตลิ่งชัน", "Taling Chan"),
    ("บางกอกน้อย", "Bangkok Noi"),
    ("บางขุนเทียน", "Bang Khun Thian"),
    ("ภาษีเจริญ", "Phasi Charoen"),
    ("หนองแขม", "Nong Khaem"),
    ("ราษฎร์บูรณะ", "Rat Burana"),
    ("บางพลัด", "Bang Phlat"),
    ("ดินแดง", "Din Daeng"),
    ("บึงกุ่ม", "Bueng Kum"),
    ("สาทร", "Sathon"),
    ("บางซื่อ", "Bang Sue"),
    ("จตุจักร", "Chatuchak"),
    ("บางคอแหลม", "Bang Kho Laem"),
    ("ประเวศ", "Prawet"),
    ("คลองเตย", "Khlong Toei"),
    ("สวนหลวง", "Suan Luang"),
    ("จอมทอง", "Chom Thong"),
    ("ดอนเมือง", "Don Mueang"),
    ("ราชเทวี", "Ratchathewi"),
    ("ลาดพร้าว", "Lat Phrao"),
    ("วัฒนา", "Watthana"),
    ("บางแค", "Bang Khae"),
    ("หลักสี่", "Lak Si"),
    ("สายไหม", "Sai Mai"),
    ("คันนายาว", "Khan Na Yao"),
    ("สะพานสูง", "Saphan Sung"),
    ("วังทองหลาง", "Wang Thonglang"),
    ("คลองสามวา", "Khlong Sam Wa"),
    ("บางนา", "Bang Na"),
    ("ทวีวัฒนา", "Thawi Watthana"),
    ("ทุ่งครุ", "Thung Khru"),
    ("บางบอน", "Bang Bon"),
)

# Outer khet where ministries keep Bangkok branches (the land office's, for one).
_BANGKOK_BRANCH_KHET = frozenset(
    {
        "บางเขน",
        "บางกะปิ",
        "มีนบุรี",
        "ลาดกระบัง",
        "หนองจอก",
        "พระโขนง",
        "บางขุนเทียน",
        "ตลิ่งชัน",
        "ธนบุรี",
        "ดอนเมือง",
        "ประเวศ",
        "คลองสามวา",
    }
)

# A short list of real amphoe for the bigger provinces (Amphoe Mueang left out: it hosts the
# provincial office). Provinces not listed get numbered branches instead.
_AMPHOES: tuple[tuple[str, tuple[Bilingual, ...]], ...] = (
    (BANGKOK, tuple(d for d in BANGKOK_DISTRICTS if d[0] in _BANGKOK_BRANCH_KHET)),
    (
        "TH-11",
        (
            ("บางพลี", "Bang Phli"),
            ("บางบ่อ", "Bang Bo"),
            ("พระประแดง", "Phra Pradaeng"),
            ("พระสมุทรเจดีย์", "Phra Samut Chedi"),
            ("บางเสาธง", "Bang Sao Thong"),
        ),
    ),
    (
        "TH-12",
        (
            ("ปากเกร็ด", "Pak Kret"),
            ("บางบัวทอง", "Bang Bua Thong"),
            ("บางใหญ่", "Bang Yai"),
            ("บางกรวย", "Bang Kruai"),
            ("ไทรน้อย", "Sai Noi"),
        ),
    ),
    (
        "TH-13",
        (
            ("คลองหลวง", "Khlong Luang"),
            ("ธัญบุรี", "Thanyaburi"),
            ("ลำลูกกา", "Lam Luk Ka"),
            ("สามโคก", "Sam Khok"),
            ("ลาดหลุมแก้ว", "Lat Lum Kaeo"),
        ),
    ),
    (
        "TH-14",
        (
            ("บางปะอิน", "Bang Pa-in"),
            ("วังน้อย", "Wang Noi"),
            ("เสนา", "Sena"),
            ("อุทัย", "Uthai"),
            ("ภาชี", "Phachi"),
        ),
    ),
    ("TH-16", (("บ้านหมี่", "Ban Mi"), ("ชัยบาดาล", "Chai Badan"), ("โคกสำโรง", "Khok Samrong"))),
    (
        "TH-19",
        (("แก่งคอย", "Kaeng Khoi"), ("หนองแค", "Nong Khae"), ("พระพุทธบาท", "Phra Phutthabat")),
    ),
    (
        "TH-20",
        (
            ("บางละมุง", "Bang Lamung"),
            ("ศรีราชา", "Si Racha"),
            ("สัตหีบ", "Sattahip"),
            ("พนัสนิคม", "Phanat Nikhom"),
            ("บ้านบึง", "Ban Bueng"),
            ("พานทอง", "Phan Thong"),
        ),
    ),
    (
        "TH-21",
        (
            ("บ้านฉาง", "Ban Chang"),
            ("แกลง", "Klaeng"),
            ("ปลวกแดง", "Pluak Daeng"),
            ("บ้านค่าย", "Ban Khai"),
        ),
    ),
    ("TH-22", (("ท่าใหม่", "Tha Mai"), ("ขลุง", "Khlung"), ("โป่งน้ำร้อน", "Pong Nam Ron"))),
    (
        "TH-24",
        (("บางปะกง", "Bang Pakong"), ("พนมสารคาม", "Phanom Sarakham"), ("บางคล้า", "Bang Khla")),
    ),
    ("TH-25", (("กบินทร์บุรี", "Kabin Buri"), ("ศรีมหาโพธิ", "Si Maha Phot"))),
    ("TH-27", (("อรัญประเทศ", "Aranyaprathet"), ("วัฒนานคร", "Watthana Nakhon"))),
    (
        "TH-30",
        (
            ("ปากช่อง", "Pak Chong"),
            ("สีคิ้ว", "Sikhio"),
            ("พิมาย", "Phimai"),
            ("โชคชัย", "Chok Chai"),
            ("บัวใหญ่", "Bua Yai"),
            ("ปักธงชัย", "Pak Thong Chai"),
            ("สูงเนิน", "Sung Noen"),
            ("ด่านขุนทด", "Dan Khun Thot"),
        ),
    ),
    (
        "TH-31",
        (
            ("นางรอง", "Nang Rong"),
            ("ประโคนชัย", "Prakhon Chai"),
            ("ลำปลายมาศ", "Lam Plai Mat"),
            ("สตึก", "Satuek"),
        ),
    ),
    (
        "TH-32",
        (("ปราสาท", "Prasat"), ("ท่าตูม", "Tha Tum"), ("รัตนบุรี", "Rattanaburi"), ("สังขะ", "Sangkha")),
    ),
    (
        "TH-33",
        (("กันทรลักษ์", "Kantharalak"), ("ขุขันธ์", "Khukhan"), ("อุทุมพรพิสัย", "Uthumphon Phisai")),
    ),
    (
        "TH-34",
        (
            ("วารินชำราบ", "Warin Chamrap"),
            ("เดชอุดม", "Det Udom"),
            ("พิบูลมังสาหาร", "Phibun Mangsahan"),
            ("ตระการพืชผล", "Trakan Phuet Phon"),
            ("เขื่องใน", "Khueang Nai"),
        ),
    ),
    ("TH-36", (("ภูเขียว", "Phu Khiao"), ("แก้งคร้อ", "Kaeng Khro"), ("จัตุรัส", "Chatturat"))),
    (
        "TH-40",
        (
            ("ชุมแพ", "Chum Phae"),
            ("บ้านไผ่", "Ban Phai"),
            ("น้ำพอง", "Nam Phong"),
            ("ภูเวียง", "Phu Wiang"),
            ("พล", "Phon"),
            ("กระนวน", "Kranuan"),
        ),
    ),
    (
        "TH-41",
        (
            ("กุมภวาปี", "Kumphawapi"),
            ("บ้านดุง", "Ban Dung"),
            ("หนองหาน", "Nong Han"),
            ("เพ็ญ", "Phen"),
            ("บ้านผือ", "Ban Phue"),
        ),
    ),
    ("TH-43", (("ท่าบ่อ", "Tha Bo"), ("ศรีเชียงใหม่", "Si Chiang Mai"), ("โพนพิสัย", "Phon Phisai"))),
    (
        "TH-44",
        (
            ("โกสุมพิสัย", "Kosum Phisai"),
            ("บรบือ", "Borabue"),
            ("พยัคฆภูมิพิสัย", "Phayakkhaphum Phisai"),
        ),
    ),
    (
        "TH-45",
        (
            ("เสลภูมิ", "Selaphum"),
            ("โพนทอง", "Phon Thong"),
            ("สุวรรณภูมิ", "Suwannaphum"),
            ("เกษตรวิสัย", "Kaset Wisai"),
        ),
    ),
    ("TH-46", (("กุฉินารายณ์", "Kuchinarai"), ("ยางตลาด", "Yang Talat"), ("สมเด็จ", "Somdet"))),
    (
        "TH-47",
        (
            ("สว่างแดนดิน", "Sawang Daen Din"),
            ("พังโคน", "Phang Khon"),
            ("วานรนิวาส", "Wanon Niwat"),
        ),
    ),
    (
        "TH-50",
        (
            ("สันทราย", "San Sai"),
            ("หางดง", "Hang Dong"),
            ("แม่ริม", "Mae Rim"),
            ("สันกำแพง", "San Kamphaeng"),
            ("ฝาง", "Fang"),
            ("จอมทอง", "Chom Thong"),
            ("สารภี", "Saraphi"),
            ("ดอยสะเก็ด", "Doi Saket"),
            ("แม่แตง", "Mae Taeng"),
            ("สันป่าตอง", "San Pa Tong"),
        ),
    ),
    ("TH-52", (("เกาะคา", "Ko Kha"), ("แม่เมาะ", "Mae Mo"), ("งาว", "Ngao"), ("เถิน", "Thoen"))),
    (
        "TH-57",
        (
            ("แม่สาย", "Mae Sai"),
            ("เชียงแสน", "Chiang Saen"),
            ("เชียงของ", "Chiang Khong"),
            ("แม่จัน", "Mae Chan"),
            ("พาน", "Phan"),
            ("เทิง", "Thoeng"),
        ),
    ),
    (
        "TH-60",
        (
            ("ตาคลี", "Takhli"),
            ("ลาดยาว", "Lat Yao"),
            ("พยุหะคีรี", "Phayuha Khiri"),
            ("ชุมแสง", "Chum Saeng"),
        ),
    ),
    ("TH-63", (("แม่สอด", "Mae Sot"), ("แม่ระมาด", "Mae Ramat"), ("อุ้มผาง", "Umphang"))),
    (
        "TH-65",
        (
            ("วังทอง", "Wang Thong"),
            ("บางระกำ", "Bang Rakam"),
            ("นครไทย", "Nakhon Thai"),
            ("พรหมพิราม", "Phrom Phiram"),
        ),
    ),
    ("TH-67", (("หล่มสัก", "Lom Sak"), ("วิเชียรบุรี", "Wichian Buri"), ("หล่มเก่า", "Lom Kao"))),
    (
        "TH-70",
        (
            ("บ้านโป่ง", "Ban Pong"),
            ("โพธาราม", "Photharam"),
            ("ดำเนินสะดวก", "Damnoen Saduak"),
            ("จอมบึง", "Chom Bueng"),
        ),
    ),
    (
        "TH-71",
        (
            ("ท่ามะกา", "Tha Maka"),
            ("ท่าม่วง", "Tha Muang"),
            ("ทองผาภูมิ", "Thong Pha Phum"),
            ("สังขละบุรี", "Sangkhla Buri"),
        ),
    ),
    (
        "TH-72",
        (
            ("อู่ทอง", "U Thong"),
            ("สองพี่น้อง", "Song Phi Nong"),
            ("ศรีประจันต์", "Si Prachan"),
            ("บางปลาม้า", "Bang Pla Ma"),
        ),
    ),
    (
        "TH-73",
        (
            ("สามพราน", "Sam Phran"),
            ("กำแพงแสน", "Kamphaeng Saen"),
            ("นครชัยศรี", "Nakhon Chai Si"),
            ("บางเลน", "Bang Len"),
            ("พุทธมณฑล", "Phutthamonthon"),
        ),
    ),
    ("TH-74", (("กระทุ่มแบน", "Krathum Baen"), ("บ้านแพ้ว", "Ban Phaeo"))),
    (
        "TH-77",
        (
            ("หัวหิน", "Hua Hin"),
            ("ปราณบุรี", "Pran Buri"),
            ("บางสะพาน", "Bang Saphan"),
            ("ทับสะแก", "Thap Sakae"),
        ),
    ),
    (
        "TH-80",
        (
            ("ทุ่งสง", "Thung Song"),
            ("ปากพนัง", "Pak Phanang"),
            ("สิชล", "Sichon"),
            ("ท่าศาลา", "Tha Sala"),
            ("ทุ่งใหญ่", "Thung Yai"),
        ),
    ),
    ("TH-81", (("อ่าวลึก", "Ao Luek"), ("คลองท่อม", "Khlong Thom"), ("เกาะลันตา", "Ko Lanta"))),
    ("TH-83", (("กะทู้", "Kathu"), ("ถลาง", "Thalang"))),
    (
        "TH-84",
        (
            ("เกาะสมุย", "Ko Samui"),
            ("เกาะพะงัน", "Ko Pha-ngan"),
            ("ไชยา", "Chaiya"),
            ("พุนพิน", "Phunphin"),
            ("กาญจนดิษฐ์", "Kanchanadit"),
        ),
    ),
    (
        "TH-90",
        (
            ("หาดใหญ่", "Hat Yai"),
            ("สะเดา", "Sadao"),
            ("จะนะ", "Chana"),
            ("ระโนด", "Ranot"),
            ("รัตภูมิ", "Rattaphum"),
        ),
    ),
    ("TH-92", (("ห้วยยอด", "Huai Yot"), ("กันตัง", "Kantang"), ("ย่านตาขาว", "Yan Ta Khao"))),
    ("TH-95", (("เบตง", "Betong"), ("รามัน", "Raman"))),
    ("TH-96", (("ตากใบ", "Tak Bai"), ("สุไหงโก-ลก", "Su-ngai Kolok"), ("ระแงะ", "Rangae"))),
)

_AMPHOES_BY_PROVINCE: dict[str, tuple[Bilingual, ...]] = dict(_AMPHOES)


@dataclass(frozen=True)
class Office:
    """A parent office: one upper-case segment of the ``PMO/...`` path centers report through."""

    code: str
    name_th: str
    name_en: str
    parent: str = ROOT  # path of the office above; "" for the PMO itself

    @property
    def path(self) -> str:
        return f"{self.parent}/{self.code}" if self.parent else self.code


OFFICES: tuple[Office, ...] = (
    Office(ROOT, "สำนักนายกรัฐมนตรี", "Office of the Prime Minister", parent=""),
    Office("MOI", "กระทรวงมหาดไทย", "Ministry of Interior"),
    Office("DOPA", "กรมการปกครอง", "Department of Provincial Administration", "PMO/MOI"),
    Office("DOL", "กรมที่ดิน", "Department of Lands", "PMO/MOI"),
    Office("MOT", "กระทรวงคมนาคม", "Ministry of Transport"),
    Office("DLT", "กรมการขนส่งทางบก", "Department of Land Transport", "PMO/MOT"),
    Office("MOL", "กระทรวงแรงงาน", "Ministry of Labour"),
    Office("SSO", "สำนักงานประกันสังคม", "Social Security Office", "PMO/MOL"),
    Office("DOE", "กรมการจัดหางาน", "Department of Employment", "PMO/MOL"),
    Office("MOF", "กระทรวงการคลัง", "Ministry of Finance"),
    Office("RD", "กรมสรรพากร", "Revenue Department", "PMO/MOF"),
    Office("MOPH", "กระทรวงสาธารณสุข", "Ministry of Public Health"),
    Office(
        "OPS",
        "สำนักงานปลัดกระทรวงสาธารณสุข",
        "Office of the Permanent Secretary, Ministry of Public Health",
        "PMO/MOPH",
    ),
    Office("MOJ", "กระทรวงยุติธรรม", "Ministry of Justice"),
    Office("LED", "กรมบังคับคดี", "Legal Execution Department", "PMO/MOJ"),
    Office("DOP", "กรมคุมประพฤติ", "Department of Probation", "PMO/MOJ"),
    Office("MOC", "กระทรวงพาณิชย์", "Ministry of Commerce"),
    Office("DBD", "กรมพัฒนาธุรกิจการค้า", "Department of Business Development", "PMO/MOC"),
    Office("SOE", "รัฐวิสาหกิจ", "State enterprises"),
    Office("PEA", "การไฟฟ้าส่วนภูมิภาค", "Provincial Electricity Authority", "PMO/SOE"),
    Office("PWA", "การประปาส่วนภูมิภาค", "Provincial Waterworks Authority", "PMO/SOE"),
    Office("MEA", "การไฟฟ้านครหลวง", "Metropolitan Electricity Authority", "PMO/SOE"),
    Office("MWA", "การประปานครหลวง", "Metropolitan Waterworks Authority", "PMO/SOE"),
    Office("PROVINCE", "จังหวัด", "Provinces"),
    *(
        Office(p.code, f"จังหวัด{p.name_th}", f"{p.name_en} Province", "PMO/PROVINCE")
        for p in PROVINCES
        if p.code != BANGKOK
    ),
    Office("BMA", "กรุงเทพมหานคร", "Bangkok Metropolitan Administration"),
    Office("DISTRICT", "สำนักงานเขต", "District offices", "PMO/BMA"),
    Office("MEDICAL", "สำนักการแพทย์", "Medical Service Department", "PMO/BMA"),
    Office("HEALTH", "สำนักอนามัย", "Health Department", "PMO/BMA"),
)


@dataclass(frozen=True)
class _ProvincialService:
    """How a department names its centers province by province: the provincial office, the
    offices every province has, branches by amphoe, then numbered branches.

    Templates are (Thai, English) pairs with the same placeholders in both languages:
    ``{province}``, ``{where}``, ``{mueang}`` (see ``_place_words``), ``{main}`` (the provincial
    office), ``{amphoe}`` and ``{n}``.
    """

    office_path: str  # may use {code}, the province's ISO code
    weight: int  # centers in the 1,343-center registry
    main: Bilingual
    branch: Bilingual = ("{main} สาขา{amphoe}", "{main}, {amphoe} Branch")
    numbered: Bilingual = ("{main} สาขา {n}", "{main}, Branch {n}")
    also: tuple[Bilingual, ...] = ()
    bangkok_area: Bilingual | None = None  # Bangkok's numbered area offices replace its branches
    bangkok_areas: int = 0
    excluded: frozenset[str] = frozenset()


_NOT_BANGKOK = frozenset({BANGKOK})
# The metropolitan authorities, not the provincial ones, serve Bangkok, Nonthaburi, Samut Prakan.
_METROPOLITAN_AREA = frozenset({BANGKOK, "TH-11", "TH-12"})

_PROVINCIAL_SERVICES: tuple[_ProvincialService, ...] = (
    _ProvincialService(
        "PMO/PROVINCE/{code}",
        76,
        ("ศูนย์ดำรงธรรมจังหวัด{province}", "{province} Provincial Damrongdhama Center"),
        branch=(
            "ศูนย์ดำรงธรรมอำเภอ{amphoe} จังหวัด{province}",
            "{amphoe} District Damrongdhama Center, {province}",
        ),
        also=(("ศาลากลางจังหวัด{province}", "{province} Provincial Hall"),),
        excluded=_NOT_BANGKOK,
    ),
    _ProvincialService(
        "PMO/MOI/DOPA",
        180,
        ("ที่ว่าการอำเภอ{mueang}", "{mueang} District Office"),
        branch=("ที่ว่าการอำเภอ{amphoe} จังหวัด{province}", "{amphoe} District Office, {province}"),
        excluded=_NOT_BANGKOK,
    ),
    _ProvincialService("PMO/MOI/DOL", 170, ("สำนักงานที่ดิน{where}", "{where} Land Office")),
    _ProvincialService(
        "PMO/MOT/DLT",
        120,
        ("สำนักงานขนส่ง{where}", "{where} Land Transport Office"),
        branch=("{main} สาขาอำเภอ{amphoe}", "{main}, {amphoe} District Branch"),
        bangkok_area=("สำนักงานขนส่งกรุงเทพมหานครพื้นที่ {n}", "Bangkok Land Transport Office Area {n}"),
        bangkok_areas=5,
    ),
    _ProvincialService(
        "PMO/MOL/SSO",
        100,
        ("สำนักงานประกันสังคม{where}", "{where} Social Security Office"),
        bangkok_area=(
            "สำนักงานประกันสังคมกรุงเทพมหานครพื้นที่ {n}",
            "Bangkok Social Security Office Area {n}",
        ),
        bangkok_areas=12,
    ),
    _ProvincialService(
        "PMO/MOL/DOE",
        80,
        ("สำนักงานจัดหางาน{where}", "{where} Employment Office"),
        bangkok_area=("สำนักงานจัดหางานกรุงเทพมหานครพื้นที่ {n}", "Bangkok Employment Office Area {n}"),
        bangkok_areas=10,
    ),
    _ProvincialService(
        "PMO/MOF/RD",
        120,
        ("สำนักงานสรรพากรพื้นที่{province}", "{province} Area Revenue Office"),
        bangkok_area=("สำนักงานสรรพากรพื้นที่กรุงเทพมหานคร {n}", "Bangkok Area Revenue Office {n}"),
        bangkok_areas=30,
    ),
    _ProvincialService(
        "PMO/MOPH/OPS",
        110,
        ("สำนักงานสาธารณสุขจังหวัด{province}", "{province} Provincial Public Health Office"),
        branch=("โรงพยาบาล{amphoe} จังหวัด{province}", "{amphoe} Hospital, {province}"),
        numbered=(
            "โรงพยาบาลส่งเสริมสุขภาพตำบล จังหวัด{province} แห่งที่ {n}",
            "{province} Subdistrict Health Promoting Hospital No. {n}",
        ),
        excluded=_NOT_BANGKOK,
    ),
    _ProvincialService(
        "PMO/MOJ/LED",
        60,
        ("สำนักงานบังคับคดี{where}", "{where} Legal Execution Office"),
        bangkok_area=("สำนักงานบังคับคดีแพ่งกรุงเทพมหานคร {n}", "Bangkok Civil Enforcement Office {n}"),
        bangkok_areas=6,
    ),
    _ProvincialService(
        "PMO/MOJ/DOP",
        50,
        ("สำนักงานคุมประพฤติ{where}", "{where} Probation Office"),
        bangkok_area=("สำนักงานคุมประพฤติกรุงเทพมหานคร {n}", "Bangkok Probation Office {n}"),
        bangkok_areas=8,
    ),
    _ProvincialService(
        "PMO/MOC/DBD",
        40,
        ("สำนักงานพัฒนาธุรกิจการค้า{where}", "{where} Business Development Office"),
    ),
    _ProvincialService(
        "PMO/SOE/PEA",
        80,
        ("การไฟฟ้าส่วนภูมิภาคจังหวัด{province}", "Provincial Electricity Authority, {province}"),
        branch=(
            "การไฟฟ้าส่วนภูมิภาคอำเภอ{amphoe} จังหวัด{province}",
            "Provincial Electricity Authority, {amphoe} District, {province}",
        ),
        excluded=_METROPOLITAN_AREA,
    ),
    _ProvincialService(
        "PMO/SOE/PWA",
        50,
        ("การประปาส่วนภูมิภาคสาขา{province}", "Provincial Waterworks Authority, {province} Branch"),
        branch=(
            "การประปาส่วนภูมิภาคสาขา{amphoe} จังหวัด{province}",
            "Provincial Waterworks Authority, {amphoe} Branch, {province}",
        ),
        numbered=(
            "การประปาส่วนภูมิภาค{where} หน่วยบริการ {n}",
            "Provincial Waterworks Authority, {province}, Service Unit {n}",
        ),
        excluded=_METROPOLITAN_AREA,
    ),
)

# Metropolitan authority offices: (province code, Thai name, English name).
_MWA_BRANCHES: tuple[tuple[str, str, str], ...] = (
    (BANGKOK, "แม้นศรี", "Maen Si"),
    (BANGKOK, "สุขุมวิท", "Sukhumvit"),
    (BANGKOK, "พญาไท", "Phaya Thai"),
    (BANGKOK, "บางเขน", "Bang Khen"),
    (BANGKOK, "ลาดพร้าว", "Lat Phrao"),
    (BANGKOK, "มีนบุรี", "Min Buri"),
    (BANGKOK, "พระโขนง", "Phra Khanong"),
    (BANGKOK, "ทุ่งมหาเมฆ", "Thung Maha Mek"),
    (BANGKOK, "ประชาชื่น", "Pracha Chuen"),
    (BANGKOK, "ภาษีเจริญ", "Phasi Charoen"),
    (BANGKOK, "ราษฎร์บูรณะ", "Rat Burana"),
    (BANGKOK, "ตากสิน", "Taksin"),
    ("TH-12", "นนทบุรี", "Nonthaburi"),
    ("TH-12", "บางบัวทอง", "Bang Bua Thong"),
    ("TH-12", "มหาสวัสดิ์", "Maha Sawat"),
    ("TH-11", "สมุทรปราการ", "Samut Prakan"),
    ("TH-11", "บางพลี", "Bang Phli"),
    ("TH-11", "สุวรรณภูมิ", "Suvarnabhumi"),
)
_MEA_DISTRICTS: tuple[tuple[str, str, str], ...] = (
    (BANGKOK, "วัดเลียบ", "Wat Liap"),
    (BANGKOK, "สามเสน", "Samsen"),
    (BANGKOK, "คลองเตย", "Khlong Toei"),
    (BANGKOK, "บางกะปิ", "Bang Kapi"),
    (BANGKOK, "บางเขน", "Bang Khen"),
    (BANGKOK, "มีนบุรี", "Min Buri"),
    (BANGKOK, "ลาดกระบัง", "Lat Krabang"),
    (BANGKOK, "ยานนาวา", "Yan Nawa"),
    (BANGKOK, "ราษฎร์บูรณะ", "Rat Burana"),
    (BANGKOK, "บางขุนเทียน", "Bang Khun Thian"),
    (BANGKOK, "ธนบุรี", "Thon Buri"),
    (BANGKOK, "ประเวศ", "Prawet"),
    ("TH-12", "นนทบุรี", "Nonthaburi"),
    ("TH-12", "บางใหญ่", "Bang Yai"),
    ("TH-12", "บางบัวทอง", "Bang Bua Thong"),
    ("TH-11", "สมุทรปราการ", "Samut Prakan"),
    ("TH-11", "บางพลี", "Bang Phli"),
)

_BMA_DISTRICT_OFFICES: tuple[Bilingual, ...] = tuple(
    (f"สำนักงานเขต{th}", f"{en} District Office") for th, en in BANGKOK_DISTRICTS
)
_BMA_HOSPITALS: tuple[Bilingual, ...] = (
    ("โรงพยาบาลกลาง", "Klang Hospital"),
    ("โรงพยาบาลตากสิน", "Taksin Hospital"),
    ("โรงพยาบาลเจริญกรุงประชารักษ์", "Charoenkrung Pracharak Hospital"),
    ("โรงพยาบาลหลวงพ่อทวีศักดิ์ ชุตินฺธโร อุทิศ", "Luang Pho Thawee Sak Chutindharo Uthit Hospital"),
    ("โรงพยาบาลเวชการุณย์รัศมิ์", "Vejakarunrasmi Hospital"),
    ("โรงพยาบาลลาดกระบังกรุงเทพมหานคร", "Lat Krabang Hospital"),
    ("โรงพยาบาลราชพิพัฒน์", "Ratchaphiphat Hospital"),
    ("โรงพยาบาลสิรินธร", "Sirindhorn Hospital"),
    ("โรงพยาบาลผู้สูงอายุบางขุนเทียน", "Bang Khun Thian Geriatric Hospital"),
    ("โรงพยาบาลคลองสามวา", "Khlong Sam Wa Hospital"),
    ("โรงพยาบาลบางนา กรุงเทพมหานคร", "Bang Na Hospital"),
)
# BMA public health centers are numbered: ศูนย์บริการสาธารณสุข 1, 2, ...
_BMA_HEALTH_CENTER: Bilingual = ("ศูนย์บริการสาธารณสุข {n}", "Public Health Center {n}")

Words = dict[str, Bilingual]
_KEEP_N: Words = {"n": ("{n}", "{n}")}  # left in place for _Presence.name to number


@dataclass(frozen=True)
class _Presence:
    """One office's centers in one place: its named sites first, then numbered branches."""

    office_path: str
    province: Province
    named: tuple[Bilingual, ...]
    numbered: Bilingual  # patterns whose only placeholder is {n}, the branch's ordinal

    def name(self, index: int) -> Bilingual:
        if index < len(self.named):
            return self.named[index]
        return self.numbered[0].format(n=index + 1), self.numbered[1].format(n=index + 1)


class _Network(NamedTuple):
    weight: int  # centers in the 1,343-center registry
    presences: tuple[_Presence, ...]


def _fill(template: Bilingual, words: Words) -> Bilingual:
    thai = {key: pair[0] for key, pair in words.items()}
    english = {key: pair[1] for key, pair in words.items()}
    return template[0].format_map(thai), template[1].format_map(english)


def _place_words(province: Province) -> Words:
    name = (province.name_th, province.name_en)
    if province.code == BANGKOK:
        where = ("กรุงเทพมหานคร", "Bangkok Metropolitan")
    else:
        where = (f"จังหวัด{province.name_th}", f"{province.name_en} Provincial")
    # Ayutthaya is the one province whose capital district is not "Mueang <province>".
    mueang = name if province.code == "TH-14" else (f"เมือง{name[0]}", f"Mueang {name[1]}")
    return {"province": name, "where": where, "mueang": mueang}


def _provincial_presence(service: _ProvincialService, province: Province) -> _Presence:
    words = _place_words(province)
    words["main"] = _fill(service.main, words)
    return _Presence(
        office_path=service.office_path.format(code=province.code),
        province=province,
        named=_provincial_named(service, province, words),
        numbered=_fill(service.numbered, words | _KEEP_N),
    )


def _provincial_named(
    service: _ProvincialService, province: Province, words: Words
) -> tuple[Bilingual, ...]:
    if province.code == BANGKOK and service.bangkok_area is not None:
        areas = range(1, service.bangkok_areas + 1)
        return tuple(_fill(service.bangkok_area, {"n": (str(n), str(n))}) for n in areas)
    also = tuple(_fill(template, words) for template in service.also)
    amphoes = _AMPHOES_BY_PROVINCE.get(province.code, ())
    branches = tuple(_fill(service.branch, words | {"amphoe": amphoe}) for amphoe in amphoes)
    return (words["main"], *also, *branches)


def _provincial_network(service: _ProvincialService) -> _Network:
    provinces = (p for p in PROVINCES if p.code not in service.excluded)
    return _Network(service.weight, tuple(_provincial_presence(service, p) for p in provinces))


def _metropolitan_network(
    office_path: str,
    weight: int,
    site: Bilingual,
    numbered: Bilingual,
    sites: tuple[tuple[str, str, str], ...],
) -> _Network:
    presences: list[_Presence] = []
    for code in dict.fromkeys(code for code, _, _ in sites):
        province = PROVINCE_BY_CODE[code]
        named = tuple(_fill(site, {"site": (th, en)}) for c, th, en in sites if c == code)
        pattern = _fill(numbered, _place_words(province) | _KEEP_N)
        presences.append(_Presence(office_path, province, named, pattern))
    return _Network(weight, tuple(presences))


def _bma_network(office_path: str, weight: int, sites: tuple[Bilingual, ...]) -> _Network:
    """Each BMA unit numbers its own branches: สำนักงานเขตพระนคร สาขา 2, ..."""
    bangkok = PROVINCE_BY_CODE[BANGKOK]
    numbered = ("{site} สาขา {n}", "{site}, Branch {n}")
    return _Network(
        weight,
        tuple(
            _Presence(office_path, bangkok, (site,), _fill(numbered, {"site": site} | _KEEP_N))
            for site in sites
        ),
    )


_BMA_NETWORKS: tuple[_Network, ...] = (
    _bma_network("PMO/BMA/DISTRICT", 50, _BMA_DISTRICT_OFFICES),
    _bma_network("PMO/BMA/MEDICAL", 11, _BMA_HOSPITALS),
    _Network(27, (_Presence("PMO/BMA/HEALTH", PROVINCE_BY_CODE[BANGKOK], (), _BMA_HEALTH_CENTER),)),
)
_OTHER_NETWORKS: tuple[_Network, ...] = (
    *(_provincial_network(service) for service in _PROVINCIAL_SERVICES),
    _metropolitan_network(
        "PMO/SOE/MWA",
        10,
        ("การประปานครหลวงสาขา{site}", "Metropolitan Waterworks Authority, {site} Branch"),
        (
            "การประปานครหลวง{where} สาขา {n}",
            "Metropolitan Waterworks Authority, {province}, Branch {n}",
        ),
        _MWA_BRANCHES,
    ),
    _metropolitan_network(
        "PMO/SOE/MEA",
        9,
        ("การไฟฟ้านครหลวงเขต{site}", "Metropolitan Electricity Authority, {site} District"),
        (
            "การไฟฟ้านครหลวง{where} สาขา {n}",
            "Metropolitan Electricity Authority, {province}, Branch {n}",
        ),
        _MEA_DISTRICTS,
    ),
)

# Three-year certifications awarded 2023-2025 run out between these dates.
_FIRST_EXPIRY = date(2026, 1, 1)
_LAST_EXPIRY = date(2028, 12, 31)


def generate_registry(count: int = CENTERS_2022, seed: int = 2570) -> list[Center]:
    """A registry of ``count`` certified centers, identical for the same arguments.

    At 1,343 it has the 2022 shape: 88 BMA centers, one Damrongdhama center per province, the
    rest spread over ministries and state enterprises; other counts scale it proportionally.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    rng = random.Random(seed)
    bma = _bma_share(count)
    sites = _draw(_BMA_NETWORKS, bma, rng) + _draw(_OTHER_NETWORKS, count - bma, rng)
    rng.shuffle(sites)  # ids follow certification order, not the office tree
    return [
        _center(number, presence, index, rng)
        for number, (presence, index) in enumerate(sites, start=1)
    ]


def office_paths(centers: Iterable[Center]) -> list[str]:
    """Every office the centers report through, ancestors included: PMO, PMO/MOI, PMO/MOI/DOL."""
    paths: set[str] = set()
    for path in {center.office_path for center in centers}:
        segments = path.split("/")
        paths.update("/".join(segments[:depth]) for depth in range(1, len(segments) + 1))
    return sorted(paths)


def _bma_share(count: int) -> int:
    # count * 88 / 1343 rounded half up, in integers
    share = (2 * count * BMA_CENTERS_2022 + CENTERS_2022) // (2 * CENTERS_2022)
    return max(share, 1) if count >= 10 else share


def _draw(
    networks: Sequence[_Network], total: int, rng: random.Random
) -> list[tuple[_Presence, int]]:
    shares = _apportion(total, [network.weight for network in networks])
    return [
        site
        for network, share in zip(networks, shares, strict=True)
        for site in itertools.islice(_sites(network.presences, rng), share)
    ]


def _apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder (ties: first wins)."""
    whole = sum(weights)
    shares = [total * weight // whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _sites(presences: Sequence[_Presence], rng: random.Random) -> Iterator[tuple[_Presence, int]]:
    """(presence, index) round by round: named sites while any place has one left, then numbered
    branches everywhere. Each round visits places in seeded order, so a partial round picks
    seeded places."""
    if not presences:
        return
    named_rounds = max(len(presence.named) for presence in presences)
    for rank in itertools.count():
        if rank < named_rounds:
            round_ = [(p, rank) for p in presences if rank < len(p.named)]
        else:
            round_ = [(p, len(p.named) + rank - named_rounds) for p in presences]
        rng.shuffle(round_)
        yield from round_


def _center(number: int, presence: _Presence, index: int, rng: random.Random) -> Center:
    name_th, name_en = presence.name(index)
    code = f"GECC-{number:04d}"
    return Center(
        id=code,
        name_th=name_th,
        name_en=name_en,
        office_path=presence.office_path,
        province=presence.province.name_th,
        certified_until=_certified_until(rng),
        contact_emails=(contact_email(code, presence.office_path),),
    )


def contact_email(code: str, office_path: str) -> str:
    """A made-up but well-formed address under the example.go.th test domain."""
    office = office_path.split("/")[1].lower()
    return f"{code.lower()}@{office}.example.go.th"


def _certified_until(rng: random.Random) -> date:
    return _FIRST_EXPIRY + timedelta(days=rng.randrange((_LAST_EXPIRY - _FIRST_EXPIRY).days + 1))
