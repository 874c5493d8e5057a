//! Demo data generator behind `sen serve --demo`: the demo province of Đồng Tháp.
//!
//! Everything here produces raw log lines exactly as the province's devices would send them over
//! syslog, with the province's inventory (zones, tenants, information systems, hosts) held in
//! Rust consts (see `/shared/design/demo-province.yaml` for the source of truth it was shaped on):
//!
//! * Linux servers send RFC 3164 (`<PRI>Mmm dd hh:mm:ss host prog[pid]: msg`, province time
//!   +07:00): sshd / pam / sudo / su / systemd-logind, cron, systemd (logrotate), nginx access
//!   logs via syslog (portal), Apache access and error logs via rsyslog imfile (public-service
//!   portal), postfix / dovecot (mail01), dnsmasq (dns01);
//! * PostgreSQL (db01/db02), the LGSP API gateway and the application audit trails send RFC 5424;
//! * fw-border is a FortiGate sending CEF, waf01 a FortiWeb sending CEF, fw-core a Linux box
//!   logging iptables drops/accepts through the kernel, sw-core a Cisco IOS switch.
//!
//! Public addresses are documentation ranges: citizens browse from 198.51.100.2–199 and
//! 192.0.2.2–199; the `.200`–`.254` ends of those ranges are kept for the hostile actors
//! ([`ATTACKER_SSH_IP`], [`ATTACKER_WEB_IP`], [`SCANNER_IP`], [`BAD_IP`]).
//!
//! [`backfill`] renders a deterministic past (daily rhythm, the five attack stories at fixed
//! fractions of the span); [`LiveDemo`] continues it live, replaying a story every few minutes.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The beaconing story's known-bad domain (a C2 server posing as an update CDN).
pub const BAD_DOMAIN: &str = "cdn.update-sync.example.net";
/// The beaconing story's known-bad address (what [`BAD_DOMAIN`] resolves to).
pub const BAD_IP: &str = "192.0.2.250";
/// The SSH password guesser "from abroad" (story 1).
pub const ATTACKER_SSH_IP: &str = "198.51.100.213";
/// The web scanner / SQL injector attacking the public-service portal (story 2).
pub const ATTACKER_WEB_IP: &str = "192.0.2.227";
/// The port scanner sweeping the DMZ (story 3).
pub const SCANNER_IP: &str = "198.51.100.249";

/// Province time: Asia/Ho_Chi_Minh, UTC+07:00 all year.
const TZ_SECS: i64 = 7 * 3600;

// ---------------------------------------------------------------------------------------------
// The province
// ---------------------------------------------------------------------------------------------

/// A network zone of the demo province (a monitoring point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// Zone id (`dmz`, `internal` …).
    pub id: &'static str,
    /// Vietnamese name.
    pub vi: &'static str,
    /// Address range.
    pub cidr: &'static str,
    /// The first three octets of the /24.
    pub prefix: [u8; 3],
}

/// The province's network zones.
pub const ZONES: &[Zone] = &[
    Zone { id: "border", vi: "Biên Internet", cidr: "203.0.113.0/24", prefix: [203, 0, 113] },
    Zone { id: "dmz", vi: "Vùng DMZ", cidr: "10.10.1.0/24", prefix: [10, 10, 1] },
    Zone {
        id: "internal", vi: "Vùng máy chủ nội bộ", cidr: "10.10.2.0/24", prefix: [10, 10, 2]
    },
    Zone { id: "db", vi: "Vùng cơ sở dữ liệu", cidr: "10.10.3.0/24", prefix: [10, 10, 3] },
    Zone { id: "admin", vi: "Vùng quản trị", cidr: "10.10.9.0/24", prefix: [10, 10, 9] },
];

const Z_BORDER: usize = 0;
const Z_DMZ: usize = 1;
const Z_INTERNAL: usize = 2;
const Z_DB: usize = 3;
const Z_ADMIN: usize = 4;

/// A tenant: a provincial department or local government.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Organization {
    /// Tenant id.
    pub id: &'static str,
    /// Vietnamese name.
    pub vi: &'static str,
    /// English name.
    pub en: &'static str,
}

/// The province's 13 tenants.
pub const ORGANIZATIONS: &[Organization] = &[
    Organization {
        id: "stttt",
        vi: "Sở Thông tin và Truyền thông",
        en: "Department of Information and Communications",
    },
    Organization {
        id: "vpubnd",
        vi: "Văn phòng UBND tỉnh",
        en: "Office of the Provincial People's Committee",
    },
    Organization { id: "stc", vi: "Sở Tài chính", en: "Department of Finance" },
    Organization {
        id: "skhdt",
        vi: "Sở Kế hoạch và Đầu tư",
        en: "Department of Planning and Investment",
    },
    Organization { id: "syt", vi: "Sở Y tế", en: "Department of Health" },
    Organization {
        id: "sgddt",
        vi: "Sở Giáo dục và Đào tạo",
        en: "Department of Education and Training",
    },
    Organization { id: "stp", vi: "Sở Tư pháp", en: "Department of Justice" },
    Organization { id: "snv", vi: "Sở Nội vụ", en: "Department of Home Affairs" },
    Organization {
        id: "stnmt",
        vi: "Sở Tài nguyên và Môi trường",
        en: "Department of Natural Resources and Environment",
    },
    Organization { id: "sct", vi: "Sở Công Thương", en: "Department of Industry and Trade" },
    Organization {
        id: "ubnd-caolanh",
        vi: "UBND thành phố Cao Lãnh",
        en: "Cao Lãnh City People's Committee",
    },
    Organization {
        id: "ubnd-sadec",
        vi: "UBND thành phố Sa Đéc",
        en: "Sa Đéc City People's Committee",
    },
    Organization {
        id: "ubnd-thapmuoi",
        vi: "UBND huyện Tháp Mười",
        en: "Tháp Mười District People's Committee",
    },
];

/// An information system (hệ thống thông tin) with its security level (cấp độ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InformationSystem {
    /// System id.
    pub id: &'static str,
    /// Vietnamese name.
    pub vi: &'static str,
    /// Owning tenant.
    pub org: &'static str,
    /// Security level (cấp độ 1–5).
    pub level: u8,
    /// Zone id.
    pub zone: &'static str,
    /// Its hosts.
    pub hosts: &'static [&'static str],
}

/// The province's information systems.
pub const SYSTEMS: &[InformationSystem] = &[
    InformationSystem {
        id: "portal",
        vi: "Cổng Thông tin điện tử tỉnh",
        org: "stttt",
        level: 3,
        zone: "dmz",
        hosts: &["web01", "web02"],
    },
    InformationSystem {
        id: "dvc",
        vi: "Cổng Dịch vụ công / Hệ thống thông tin một cửa điện tử",
        org: "vpubnd",
        level: 3,
        zone: "dmz",
        hosts: &["dvc-app01", "dvc-app02"],
    },
    InformationSystem {
        id: "qlvb",
        vi: "Hệ thống Quản lý văn bản và điều hành",
        org: "vpubnd",
        level: 2,
        zone: "internal",
        hosts: &["qlvb01"],
    },
    InformationSystem {
        id: "baocao",
        vi: "Hệ thống thông tin báo cáo",
        org: "skhdt",
        level: 2,
        zone: "internal",
        hosts: &["bc01"],
    },
    InformationSystem {
        id: "lgsp",
        vi: "Nền tảng chia sẻ, tích hợp dùng chung (LGSP)",
        org: "stttt",
        level: 3,
        zone: "internal",
        hosts: &["lgsp01", "lgsp02"],
    },
    InformationSystem {
        id: "csdl",
        vi: "Cơ sở dữ liệu dùng chung",
        org: "stttt",
        level: 3,
        zone: "db",
        hosts: &["db01", "db02"],
    },
    InformationSystem {
        id: "mail",
        vi: "Hệ thống thư điện tử công vụ",
        org: "stttt",
        level: 2,
        zone: "dmz",
        hosts: &["mail01"],
    },
];

struct HostDef {
    name: &'static str,
    zone: usize,
    octet: u8,
    org: &'static str,
}

const HOSTS: &[HostDef] = &[
    HostDef { name: "web01", zone: Z_DMZ, octet: 11, org: "stttt" },
    HostDef { name: "web02", zone: Z_DMZ, octet: 12, org: "stttt" },
    HostDef { name: "dvc-app01", zone: Z_DMZ, octet: 21, org: "vpubnd" },
    HostDef { name: "dvc-app02", zone: Z_DMZ, octet: 22, org: "vpubnd" },
    HostDef { name: "mail01", zone: Z_DMZ, octet: 25, org: "stttt" },
    HostDef { name: "waf01", zone: Z_DMZ, octet: 5, org: "stttt" },
    HostDef { name: "qlvb01", zone: Z_INTERNAL, octet: 11, org: "vpubnd" },
    HostDef { name: "bc01", zone: Z_INTERNAL, octet: 21, org: "skhdt" },
    HostDef { name: "lgsp01", zone: Z_INTERNAL, octet: 31, org: "stttt" },
    HostDef { name: "lgsp02", zone: Z_INTERNAL, octet: 32, org: "stttt" },
    HostDef { name: "db01", zone: Z_DB, octet: 11, org: "stttt" },
    HostDef { name: "db02", zone: Z_DB, octet: 12, org: "stttt" },
    HostDef { name: "dns01", zone: Z_INTERNAL, octet: 53, org: "stttt" },
    HostDef { name: "fw-border", zone: Z_BORDER, octet: 1, org: "stttt" },
    HostDef { name: "fw-core", zone: Z_INTERNAL, octet: 1, org: "stttt" },
    HostDef { name: "sw-core", zone: Z_INTERNAL, octet: 2, org: "stttt" },
    HostDef { name: "admin-pc01", zone: Z_ADMIN, octet: 21, org: "stttt" },
    HostDef { name: "admin-pc02", zone: Z_ADMIN, octet: 22, org: "stttt" },
    HostDef { name: "admin-pc03", zone: Z_ADMIN, octet: 23, org: "stttt" },
    HostDef { name: "admin-pc04", zone: Z_ADMIN, octet: 24, org: "stttt" },
    HostDef { name: "admin-pc05", zone: Z_ADMIN, octet: 25, org: "stttt" },
    // One staff workstation per tenant (they do not send logs; they show up in DNS, firewalls).
    HostDef { name: "pc-stttt-01", zone: Z_INTERNAL, octet: 101, org: "stttt" },
    HostDef { name: "pc-vpubnd-03", zone: Z_INTERNAL, octet: 102, org: "vpubnd" },
    HostDef { name: "pc-stc-07", zone: Z_INTERNAL, octet: 103, org: "stc" },
    HostDef { name: "pc-skhdt-02", zone: Z_INTERNAL, octet: 104, org: "skhdt" },
    HostDef { name: "pc-syt-05", zone: Z_INTERNAL, octet: 105, org: "syt" },
    HostDef { name: "pc-sgddt-01", zone: Z_INTERNAL, octet: 106, org: "sgddt" },
    HostDef { name: "pc-stp-04", zone: Z_INTERNAL, octet: 107, org: "stp" },
    HostDef { name: "pc-snv-02", zone: Z_INTERNAL, octet: 108, org: "snv" },
    HostDef { name: "pc-stnmt-06", zone: Z_INTERNAL, octet: 109, org: "stnmt" },
    HostDef { name: "pc-sct-03", zone: Z_INTERNAL, octet: 110, org: "sct" },
    HostDef { name: "pc-caolanh-11", zone: Z_INTERNAL, octet: 111, org: "ubnd-caolanh" },
    HostDef { name: "pc-sadec-08", zone: Z_INTERNAL, octet: 112, org: "ubnd-sadec" },
    HostDef { name: "pc-thapmuoi-02", zone: Z_INTERNAL, octet: 113, org: "ubnd-thapmuoi" },
];

const WEB01: usize = 0;
const WEB02: usize = 1;
const DVC1: usize = 2;
const DVC2: usize = 3;
const MAIL: usize = 4;
const WAF: usize = 5;
const QLVB: usize = 6;
const BC01: usize = 7;
const LGSP1: usize = 8;
const LGSP2: usize = 9;
const DB01: usize = 10;
const DB02: usize = 11;
const DNS: usize = 12;
const FW_BORDER: usize = 13;
const FW_CORE: usize = 14;
const SW_CORE: usize = 15;
const WS_FIRST: usize = 21;
/// The beaconing workstation (Sở Tài chính).
const BEACON_WS: usize = 23;

/// The Linux servers (they run cron, sshd, logrotate).
const LINUX: &[usize] =
    &[WEB01, WEB02, DVC1, DVC2, MAIL, QLVB, BC01, LGSP1, LGSP2, DB01, DB02, DNS];

fn host_ip(h: usize) -> Ipv4Addr {
    let d = &HOSTS[h];
    let p = ZONES[d.zone].prefix;
    Ipv4Addr::new(p[0], p[1], p[2], d.octet)
}

fn system_of(name: &str) -> Option<&'static InformationSystem> {
    SYSTEMS.iter().find(|s| s.hosts.contains(&name))
}

/// Static inventory of the demo province (hosts → org, information system, security level, zone), for asset enrichment.
pub fn assets() -> Vec<Asset> {
    HOSTS
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let sys = system_of(d.name);
            Asset {
                host: d.name.to_string(),
                ip: IpAddr::V4(host_ip(i)),
                organization: d.org.to_string(),
                system: sys.map(|s| s.id.to_string()),
                system_name: sys.map(|s| s.vi.to_string()),
                level: sys.map(|s| s.level),
                zone: ZONES[d.zone].id.to_string(),
            }
        })
        .collect()
}

/// One generated raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoRecord {
    /// When the device sent it.
    pub at: DateTime<Utc>,
    /// The sending host's address, from its zone's CIDR.
    pub peer: IpAddr,
    /// The sending host's name.
    pub host: String,
    /// The tenant the sender belongs to.
    pub organization: Option<String>,
    /// The raw line, as sent over syslog.
    pub line: String,
}

/// One host of the demo province's inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Host name.
    pub host: String,
    /// Address (inside its zone's CIDR).
    pub ip: IpAddr,
    /// Owning organization (tenant id).
    pub organization: String,
    /// Information system id, when the host belongs to one.
    pub system: Option<String>,
    /// Information system name (Vietnamese).
    pub system_name: Option<String>,
    /// Security level (cấp độ, 1–5) of the information system.
    pub level: Option<u8>,
    /// Network zone id.
    pub zone: String,
}

// ---------------------------------------------------------------------------------------------
// People and content
// ---------------------------------------------------------------------------------------------

/// Administrators: user, uid, admin-zone workstation octet, key fingerprint.
const ADMINS: &[(&str, u32, u8, &str)] = &[
    ("admin.tuan", 1001, 21, "SHA256:p3rT0k1X8c6ZqYv2nHc4WQe9sVb7LmA5uJdF0gKiE1o"),
    ("nguyenvana", 1002, 22, "SHA256:Hq7bN2xLw0fKc5tVz9YrE3mAo8sPj1uGd6iRkC4eTnM"),
    ("tranthib", 1003, 23, "SHA256:9ZkR4sXq2Lm7vBc0NwE5tYh1jUo6pFa3dGi8KeSrTzQ"),
    ("le.hung", 1004, 24, "SHA256:Wv5mQ1nTb8rLx3cZk0HsY7eAf2jUo9gPd4iKtR6NqEw"),
    ("pham.minh", 1005, 25, "SHA256:Ct2aL9wXr5kQz1mVn7bYe4sHf0jUo3gPd8iKtR6NqJx"),
];

/// Mail users (staff mailboxes at the province's domain).
const MAIL_USERS: &[&str] = &[
    "nguyenvana",
    "tranthib",
    "lethic",
    "phamvand",
    "hoangthie",
    "vothanhf",
    "dangminhg",
    "buithih",
    "ngothik",
    "duongvanl",
    "vp.ubnd",
    "stc.ketoan",
    "skhdt.tonghop",
    "syt.vanthu",
    "sgddt.vanthu",
];
const MAIL_DOMAIN: &str = "dongthap.gov.vn";
const PORTAL_HOST: &str = "dongthap.gov.vn";
const DVC_HOST: &str = "dichvucong.dongthap.gov.vn";

const BROWSER_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) coc_coc_browser/124.0.258 Chrome/118.0.5993.258 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.6723.58 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; CPH2437 Build/TP1A.220905.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.100 Mobile Safari/537.36 Zalo android/12080640 ZaloTheme/light ZaloLanguage/vi",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Zalo iOS/549 ZaloTheme/light ZaloLanguage/vi",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.127 Mobile Safari/537.36",
];
const BOT_UAS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; coccocbot-web/1.0; +http://help.coccoc.com/searchengine)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
];
const REFERRERS: &[&str] = &[
    "https://www.google.com/",
    "https://www.google.com.vn/",
    "https://coccoc.com/search",
    "https://www.facebook.com/",
    "https://l.facebook.com/",
    "https://zalo.me/",
    "https://dichvucong.gov.vn/",
];

const NEWS_SLUGS: &[&str] = &[
    "ubnd-tinh-hop-phien-thuong-ky-thang-11",
    "dong-thap-day-manh-chuyen-doi-so-trong-co-quan-nha-nuoc",
    "huong-dan-phong-chong-sau-benh-tren-lua-vu-dong-xuan",
    "le-hoi-sen-dong-thap-lan-thu-ba",
    "cong-bo-chi-so-cai-cach-hanh-chinh-cap-tinh",
    "thong-bao-lich-tiep-cong-dan-dinh-ky",
    "khoi-cong-cau-cao-lanh-moi-noi-quoc-lo-30",
    "tang-cuong-bao-dam-an-toan-thong-tin-mang",
    "dong-thap-thu-hut-dau-tu-vao-khu-cong-nghiep-sa-dec",
    "tuyen-dung-vien-chuc-nganh-giao-duc-nam-hoc-moi",
    "trien-khai-de-an-06-ve-dinh-danh-dien-tu",
    "mua-nuoc-noi-va-sinh-ke-nguoi-dan-thap-muoi",
    "hoi-nghi-xuc-tien-thuong-mai-xoai-cat-chu",
    "canh-bao-lua-dao-qua-mang-mao-danh-co-quan-nha-nuoc",
];
const SEARCH_TERMS: &[&str] = &[
    "ho+chieu",
    "cap+doi+giay+phep+lai+xe",
    "dang+ky+ket+hon",
    "lich+tiep+cong+dan",
    "tuyen+dung",
    "gia+dat+2026",
    "quy+hoach+su+dung+dat",
    "hoc+bong",
    "dang+ky+kinh+doanh",
    "xoai+cat+chu",
];
/// Administrative procedure codes (mã thủ tục hành chính).
const TTHC: &[&str] = &[
    "1.004227", "1.001612", "2.000889", "1.000894", "1.003003", "2.001711", "1.001193", "1.010799",
    "2.000528", "1.004837",
];
const LINH_VUC: &[&str] = &[
    "dat-dai",
    "ho-tich",
    "xay-dung",
    "dang-ky-kinh-doanh",
    "tu-phap",
    "giao-thong-van-tai",
    "giao-duc",
];

// ---------------------------------------------------------------------------------------------
// Time and syslog formatting
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Province wall-clock time.
fn local(at: DateTime<Utc>) -> NaiveDateTime {
    (at + Duration::seconds(TZ_SECS)).naive_utc()
}

/// `Nov 26 10:00:01` / `Nov  6 10:00:01` (RFC 3164, local time).
fn ts_bsd(out: &mut String, at: DateTime<Utc>) {
    let l = local(at);
    let _ = write!(
        out,
        "{} {:>2} {:02}:{:02}:{:02}",
        MONTHS[l.month0() as usize],
        l.day(),
        l.hour(),
        l.minute(),
        l.second()
    );
}

/// `2026-11-26T10:00:00.123+07:00` (RFC 5424).
fn ts_iso(out: &mut String, at: DateTime<Utc>) {
    let l = local(at);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+07:00",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute(),
        l.second(),
        l.nanosecond() / 1_000_000 % 1000
    );
}

/// `26/Nov/2026:10:00:01 +0700` (access logs).
fn ts_clf(out: &mut String, at: DateTime<Utc>) {
    let l = local(at);
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0700",
        l.day(),
        MONTHS[l.month0() as usize],
        l.year(),
        l.hour(),
        l.minute(),
        l.second()
    );
}

/// `Thu Nov 26 10:00:01.123456 2026` (Apache 2.4 error log).
fn ts_ctime(out: &mut String, at: DateTime<Utc>) {
    let l = local(at);
    let _ = write!(
        out,
        "{} {} {:02} {:02}:{:02}:{:02}.{:06} {:04}",
        WEEKDAYS[l.weekday().num_days_from_monday() as usize],
        MONTHS[l.month0() as usize],
        l.day(),
        l.hour(),
        l.minute(),
        l.second(),
        l.nanosecond() / 1000 % 1_000_000,
        l.year()
    );
}

/// Relative activity of the province at `at` (1.0 = a weekday's busiest office hour).
fn rhythm(at: DateTime<Utc>) -> f64 {
    let l = local(at);
    let h = f64::from(l.hour()) + f64::from(l.minute()) / 60.0;
    let day = if h < 5.0 {
        0.07
    } else if h < 6.5 {
        0.07 + (h - 5.0) / 1.5 * 0.25
    } else if h < 7.5 {
        0.32 + (h - 6.5) * 0.68
    } else if h < 11.5 {
        1.0
    } else if h < 13.5 {
        0.55
    } else if h < 17.0 {
        0.95
    } else if h < 19.0 {
        0.5
    } else if h < 22.0 {
        0.38
    } else if h < 23.0 {
        0.2
    } else {
        0.1
    };
    match l.weekday() {
        Weekday::Sat | Weekday::Sun => day * 0.4,
        _ => day,
    }
}

// Syslog facilities and severities.
const KERN: u8 = 0;
const MAILF: u8 = 2;
const DAEMON: u8 = 3;
const AUTH: u8 = 4;
const CRON: u8 = 9;
const AUTHPRIV: u8 = 10;
const LOCAL0: u8 = 16;
const LOCAL3: u8 = 19;
const LOCAL6: u8 = 22;
const LOCAL7: u8 = 23;
const ALERT: u8 = 1;
const ERR: u8 = 3;
const WARNING: u8 = 4;
const NOTICE: u8 = 5;
const INFO: u8 = 6;

const fn pri(facility: u8, severity: u8) -> u8 {
    facility * 8 + severity
}

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

/// Escape a CEF extension value (`\`, `=`, newlines).
fn cef_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '=' => s.push_str("\\="),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s
}

/// FNV-1a, for stable per-name choices (the address a domain resolves to …).
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A stable "internet" address for a public name, inside the documentation ranges.
fn public_ip(name: &str) -> Ipv4Addr {
    let h = fnv(name);
    let last = 2 + (h % 198) as u8;
    if h >> 32 & 1 == 0 {
        Ipv4Addr::new(198, 51, 100, last)
    } else {
        Ipv4Addr::new(192, 0, 2, last)
    }
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// Shared generator state: randomness, per-host process ids, counters, and the output buffer.
struct Gen {
    rng: StdRng,
    out: Vec<DemoRecord>,
    /// Per-host pid offset (pids grow with time, like a real kernel's).
    pid_base: Vec<u64>,
    /// Per-host long-lived daemon pids (logind, dnsmasq, qmgr, checkpointer, java …).
    daemons: Vec<[u32; 6]>,
    /// Per-host systemd-logind session counter.
    sessions: Vec<u32>,
    /// bc01 sends nothing at or after this instant (the silent source).
    bc01_cut: DateTime<Utc>,
    /// sw-core's IOS message sequence number (assigned in time order by [`Gen::finalize`]).
    cisco_seq: u32,
    /// Host names and org names as owned strings, cloned per record.
    names: Vec<(String, String)>,
}

const D_LOGIND: usize = 0;
const D_MAIN: usize = 1;
const D_A: usize = 2;
const D_B: usize = 3;
const D_C: usize = 4;
const D_D: usize = 5;

/// Placeholder for sw-core's sequence number, replaced in time order.
const SEQ_MARK: &str = "#SEQ#";

impl Gen {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = HOSTS.len();
        let pid_base = (0..n).map(|_| rng.gen_range(0..3_000_000u64)).collect();
        let daemons = (0..n)
            .map(|_| {
                let mut d = [0u32; 6];
                for (i, p) in d.iter_mut().enumerate() {
                    *p = 500 + i as u32 * 300 + rng.gen_range(0..280);
                }
                d
            })
            .collect();
        let sessions = (0..n).map(|_| rng.gen_range(200..9000)).collect();
        Gen {
            rng,
            out: Vec::new(),
            pid_base,
            daemons,
            sessions,
            bc01_cut: DateTime::<Utc>::MAX_UTC,
            cisco_seq: 0,
            names: HOSTS.iter().map(|d| (d.name.to_string(), d.org.to_string())).collect(),
        }
    }

    // --- randomness helpers ---

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.rng.gen_range(0..xs.len())]
    }

    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo..hi)
    }

    fn ms_between(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::milliseconds(self.rng.gen_range(lo..hi))
    }

    /// A citizen's address (documentation ranges, `.2`–`.199`).
    fn citizen(&mut self) -> Ipv4Addr {
        let last = self.rng.gen_range(2..200);
        if self.chance(0.55) {
            Ipv4Addr::new(198, 51, 100, last)
        } else {
            Ipv4Addr::new(192, 0, 2, last)
        }
    }

    fn eph_port(&mut self) -> u16 {
        self.rng.gen_range(32768..61000)
    }

    fn win_port(&mut self) -> u16 {
        self.rng.gen_range(49152..65535)
    }

    fn hex(&mut self, n: usize, upper: bool) -> String {
        const L: &[u8] = b"0123456789abcdef";
        const U: &[u8] = b"0123456789ABCDEF";
        let a = if upper { U } else { L };
        (0..n).map(|_| a[self.rng.gen_range(0..16)] as char).collect()
    }

    fn b64(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..n).map(|_| A[self.rng.gen_range(0..64)] as char).collect()
    }

    /// A fresh process id on host `h` at `at` (pids grow ~0.3/s and wrap like Linux's).
    fn pid(&mut self, h: usize, at: DateTime<Utc>) -> u32 {
        let s = at.timestamp().max(0) as u64;
        (300 + (s * 3 / 10 + self.pid_base[h]) % 4_000_000 + self.rng.gen_range(0..3)) as u32
    }

    fn daemon(&self, h: usize, slot: usize) -> u32 {
        self.daemons[h][slot]
    }

    fn session(&mut self, h: usize) -> u32 {
        self.sessions[h] += 1;
        self.sessions[h]
    }

    /// Kernel uptime for fw-core's `[12345.678901]` stamps.
    fn uptime(at: DateTime<Utc>) -> (i64, i64) {
        let us = at.timestamp_micros().rem_euclid(173 * 86_400 * 1_000_000) + 3_600_000_000;
        (us / 1_000_000, us % 1_000_000)
    }

    // --- emission ---

    fn emit(&mut self, at: DateTime<Utc>, h: usize, line: String) {
        if h == BC01 && at >= self.bc01_cut {
            return;
        }
        let (host, org) = &self.names[h];
        self.out.push(DemoRecord {
            at,
            peer: IpAddr::V4(host_ip(h)),
            host: host.clone(),
            organization: Some(org.clone()),
            line,
        });
    }

    /// RFC 3164: `<PRI>Mmm dd hh:mm:ss host tag[pid]: msg`.
    fn bsd(
        &mut self,
        at: DateTime<Utc>,
        h: usize,
        pri: u8,
        tag: &str,
        pid: Option<u32>,
        msg: &str,
    ) {
        let mut line = String::with_capacity(msg.len() + 48);
        let _ = write!(line, "<{pri}>");
        ts_bsd(&mut line, at);
        line.push(' ');
        line.push_str(HOSTS[h].name);
        line.push(' ');
        // CEF devices put the CEF header right after the host name, without a tag.
        if !tag.is_empty() {
            line.push_str(tag);
            if let Some(p) = pid {
                let _ = write!(line, "[{p}]");
            }
            line.push_str(": ");
        }
        line.push_str(msg);
        self.emit(at, h, line);
    }

    /// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    fn ietf(
        &mut self,
        at: DateTime<Utc>,
        h: usize,
        pri: u8,
        app: &str,
        pid: u32,
        msgid: &str,
        sd: &str,
        msg: &str,
    ) {
        let mut line = String::with_capacity(msg.len() + sd.len() + 64);
        let _ = write!(line, "<{pri}>1 ");
        ts_iso(&mut line, at);
        let _ = write!(line, " {} {app} {pid} {msgid} {sd} {msg}", HOSTS[h].name);
        self.emit(at, h, line);
    }

    /// Replace sw-core's sequence placeholder; call on records in time order.
    fn finalize(&mut self, r: &mut DemoRecord) {
        if r.host == HOSTS[SW_CORE].name
            && let Some(i) = r.line.find(SEQ_MARK)
        {
            self.cisco_seq += 1;
            r.line.replace_range(i..i + SEQ_MARK.len(), &self.cisco_seq.to_string());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Device dialects
// ---------------------------------------------------------------------------------------------

const FGT_SERIAL: &str = "FG201FTK22901234";
const FWB_SERIAL: &str = "FV1KF3R22000123";
/// The ISP resolver dns01 forwards to.
const UPSTREAM_DNS: &str = "198.51.100.53";
/// A FortiGate traffic flow.
#[derive(Debug, Clone, Copy)]
struct Flow {
    src: Ipv4Addr,
    spt: u16,
    dst: Ipv4Addr,
    dpt: u16,
    proto: u8,
}

/// FortiGate interface and role for an address.
fn fgt_intf(ip: Ipv4Addr) -> (&'static str, &'static str) {
    match ip.octets() {
        [10, 10, 1, _] => ("dmz", "dmz"),
        [10, 10, _, _] => ("internal", "lan"),
        _ => ("wan1", "wan"),
    }
}

/// fw-core (iptables) interface for an address.
fn core_intf(ip: Ipv4Addr) -> &'static str {
    match ip.octets() {
        [10, 10, 9, _] => "eth0",
        [10, 10, 2, _] => "eth1",
        [10, 10, 3, _] => "eth2",
        [10, 10, 1, _] => "eth3",
        _ => "eth4",
    }
}

fn mac_of(ip: Ipv4Addr) -> String {
    let h = fnv(&ip.to_string());
    format!(
        "00:50:56:{:02x}:{:02x}:{:02x}",
        (h >> 8) as u8 & 0x3f,
        (h >> 16) as u8,
        (h >> 24) as u8
    )
}

/// Percent-encode a query value the way scanners send it (everything but unreserved).
fn urlencode(s: &str) -> String {
    let mut o = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// One HTTP request as an access log line sees it.
struct Req<'a> {
    ip: Ipv4Addr,
    method: &'a str,
    path: &'a str,
    proto: &'a str,
    status: u16,
    bytes: u64,
    referrer: &'a str,
    ua: &'a str,
}

impl Gen {
    /// FortiGate traffic log (forward, accept or deny).
    fn fgt_traffic(
        &mut self,
        at: DateTime<Utc>,
        f: Flow,
        accept: bool,
        policy: u32,
        service: &str,
        app: Option<&str>,
        dur: u32,
        sent: u64,
        rcvd: u64,
    ) {
        let (iif, irole) = fgt_intf(f.src);
        let (oif, orole) = fgt_intf(f.dst);
        let sess = (at.timestamp() as u64 * 37 % 2_000_000_000) + self.rng.gen_range(0..37);
        let ns = at.timestamp_nanos_opt().unwrap_or(0);
        let (act, trandisp) = if !accept {
            ("deny", "noop")
        } else if irole == "wan" {
            ("accept", "dnat")
        } else if orole == "wan" {
            ("accept", "snat")
        } else {
            ("accept", "noop")
        };
        let mut m = format!(
            "CEF:0|Fortinet|Fortigate|v7.2.5|0000000013|traffic:forward {act}|3|deviceExternalId={FGT_SERIAL} FTNTFGTlogid=0000000013 cat=traffic:forward FTNTFGTsubtype=forward FTNTFGTlevel=notice FTNTFGTvd=root FTNTFGTeventtime={ns} FTNTFGTtz=+0700 src={} spt={} deviceInboundInterface={iif} FTNTFGTsrcintfrole={irole} dst={} dpt={} deviceOutboundInterface={oif} FTNTFGTdstintfrole={orole} FTNTFGTsessionid={sess} proto={} act={act} FTNTFGTpolicyid={policy} FTNTFGTpolicytype=policy FTNTFGTservice={service} FTNTFGTtrandisp={trandisp}",
            f.src, f.spt, f.dst, f.dpt, f.proto
        );
        if let Some(a) = app {
            let _ = write!(m, " app={a}");
        }
        let (sp, rp) =
            if sent == 0 { (u64::from(!accept), 0) } else { (sent / 700 + 1, rcvd / 1200 + 1) };
        let _ = write!(
            m,
            " FTNTFGTduration={dur} out={sent} in={rcvd} FTNTFGTsentpkt={sp} FTNTFGTrcvdpkt={rp}"
        );
        if !accept {
            m.push_str(" FTNTFGTappcat=unscanned FTNTFGTcrscore=30 FTNTFGTcraction=131072 FTNTFGTcrlevel=high");
        }
        self.bsd(at, FW_BORDER, pri(LOCAL7, NOTICE), "", None, &m);
    }

    /// FortiGate IPS / anomaly log.
    fn fgt_threat(
        &mut self,
        at: DateTime<Utc>,
        f: Flow,
        anomaly: bool,
        attack: &str,
        attack_id: u32,
        severity: &str,
        msg: &str,
    ) {
        let (iif, irole) = fgt_intf(f.src);
        let (oif, orole) = fgt_intf(f.dst);
        let ns = at.timestamp_nanos_opt().unwrap_or(0);
        let sev = match severity {
            "critical" => 9,
            "high" => 7,
            _ => 5,
        };
        let (logid, name, cat, sub, act) = if anomaly {
            (
                "0720018432",
                format!("anomaly:anomaly {attack}"),
                "anomaly:anomaly",
                "anomaly",
                "detected",
            )
        } else {
            ("0419016384", "utm:ips signature".to_string(), "utm:ips", "ips", "dropped")
        };
        let sess = (at.timestamp() as u64 * 37 % 2_000_000_000) + self.rng.gen_range(0..37);
        let m = format!(
            "CEF:0|Fortinet|Fortigate|v7.2.5|{logid}|{name}|{sev}|deviceExternalId={FGT_SERIAL} FTNTFGTlogid={logid} cat={cat} FTNTFGTsubtype={sub} FTNTFGTlevel=alert FTNTFGTvd=root FTNTFGTeventtime={ns} FTNTFGTtz=+0700 FTNTFGTseverity={severity} src={} spt={} deviceInboundInterface={iif} FTNTFGTsrcintfrole={irole} dst={} dpt={} deviceOutboundInterface={oif} FTNTFGTdstintfrole={orole} FTNTFGTsessionid={sess} proto={} act={act} FTNTFGTattack={attack} FTNTFGTattackid={attack_id} FTNTFGTref=http://www.fortinet.com/ids/VID{attack_id} msg={} FTNTFGTcrscore=50 FTNTFGTcrlevel=critical",
            f.src,
            f.spt,
            f.dst,
            f.dpt,
            f.proto,
            cef_value(msg)
        );
        self.bsd(at, FW_BORDER, pri(LOCAL7, ALERT), "", None, &m);
    }

    /// FortiWeb attack log.
    fn fwb(
        &mut self,
        at: DateTime<Utc>,
        r: &Req<'_>,
        server: usize,
        host: &str,
        main: &str,
        sub: &str,
        sig: &str,
        sev: u8,
        block: bool,
        msg: &str,
    ) {
        let policy = if host == DVC_HOST { "dvc-policy" } else { "portal-policy" };
        let act = if block { "Alert_Deny" } else { "Alert" };
        let m = format!(
            "CEF:0|Fortinet|FortiWeb|7.2.4|20000010|{main}|{sev}|deviceExternalId={FWB_SERIAL} cat=attack act={act} src={} spt={} dst={} dpt=443 requestMethod={} request={} requestClientApplication={} cs1Label=policy cs1={policy} cs2Label=http_host cs2={host} cs3Label=main_type cs3={main} cs4Label=sub_type cs4={sub} cs5Label=signature_id cs5={sig} msg={}",
            r.ip,
            self.win_port(),
            host_ip(server),
            r.method,
            cef_value(r.path),
            cef_value(r.ua),
            cef_value(msg)
        );
        // The syslog header's "tag" position is empty: FortiWeb puts CEF right after the host.
        self.bsd(at, WAF, pri(LOCAL7, ALERT), "", None, &m);
    }

    /// fw-core iptables log line.
    fn iptables(
        &mut self,
        at: DateTime<Utc>,
        action: &str,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        proto: &str,
        spt: u16,
        dpt: u16,
    ) {
        let (up, frac) = Gen::uptime(at);
        let iif = core_intf(src);
        let oif = if dst.octets()[3] == 255 || dst.is_multicast() { "" } else { core_intf(dst) };
        let ttl = if src.octets()[3] > 100 { 128 } else { 64 };
        let id = self.rng.gen_range(1..65535);
        let mut m = format!(
            "[{up:>5}.{frac:06}] [FW-CORE {action}] IN={iif} OUT={oif} MAC={}:{}:08:00 SRC={src} DST={dst}",
            if oif.is_empty() {
                "ff:ff:ff:ff:ff:ff".to_string()
            } else {
                "52:54:00:0a:0a:01".to_string()
            },
            mac_of(src)
        );
        match proto {
            "UDP" => {
                let _ = write!(
                    m,
                    " LEN=78 TOS=0x00 PREC=0x00 TTL={ttl} ID={id} PROTO=UDP SPT={spt} DPT={dpt} LEN=58"
                );
            }
            "ICMP" => {
                let _ = write!(
                    m,
                    " LEN=60 TOS=0x00 PREC=0x00 TTL={ttl} ID={id} PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ={spt}"
                );
            }
            _ => {
                let _ = write!(
                    m,
                    " LEN=52 TOS=0x00 PREC=0x00 TTL={ttl} ID={id} DF PROTO=TCP SPT={spt} DPT={dpt} WINDOW={} RES=0x00 SYN URGP=0",
                    if ttl == 128 { 64240 } else { 29200 }
                );
            }
        }
        let sev = if action == "DROP" { WARNING } else { INFO };
        self.bsd(at, FW_CORE, pri(KERN, sev), "kernel", None, &m);
    }

    /// nginx access log via nginx's own syslog output (`access_log syslog:server=…`).
    fn nginx(&mut self, at: DateTime<Utc>, h: usize, r: &Req<'_>) {
        let mut m = String::with_capacity(220);
        let _ = write!(m, "{} - - [", r.ip);
        ts_clf(&mut m, at);
        let _ = write!(
            m,
            "] \"{} {} {}\" {} {} \"{}\" \"{}\"",
            r.method, r.path, r.proto, r.status, r.bytes, r.referrer, r.ua
        );
        self.bsd(at, h, pri(LOCAL7, INFO), "nginx", None, &m);
    }

    /// Apache combined access log shipped by rsyslog imfile.
    fn apache(&mut self, at: DateTime<Utc>, h: usize, r: &Req<'_>) {
        let mut m = String::with_capacity(220);
        let _ = write!(m, "{} - - [", r.ip);
        ts_clf(&mut m, at);
        let _ = write!(m, "] \"{} {} {}\" {} ", r.method, r.path, r.proto, r.status);
        if r.bytes == 0 {
            m.push('-');
        } else {
            let _ = write!(m, "{}", r.bytes);
        }
        let _ = write!(m, " \"{}\" \"{}\"", r.referrer, r.ua);
        self.bsd(at, h, pri(LOCAL6, INFO), "apache-access", None, &m);
    }

    /// Apache 2.4 error log line shipped by rsyslog imfile.
    fn apache_error(
        &mut self,
        at: DateTime<Utc>,
        h: usize,
        module: &str,
        level: &str,
        client: Option<(Ipv4Addr, u16)>,
        msg: &str,
    ) {
        let mut m = String::with_capacity(160);
        m.push('[');
        ts_ctime(&mut m, at);
        let slot = D_A + self.rng.gen_range(0..3);
        let worker = self.daemon(h, slot);
        let tid = 139_800_000_000_000u64
            + u64::from(worker) * 4096
            + self.rng.gen_range(0..8) * 8_392_704;
        let _ = write!(m, "] [{module}:{level}] [pid {worker}:tid {tid}] ");
        if let Some((ip, port)) = client {
            let _ = write!(m, "[client {ip}:{port}] ");
        }
        m.push_str(msg);
        let sev = match level {
            "error" => ERR,
            "warn" => WARNING,
            "notice" => NOTICE,
            _ => INFO,
        };
        self.bsd(at, h, pri(LOCAL3, sev), "apache-error", None, &m);
    }

    /// PostgreSQL message via syslog (forwarded as RFC 5424 by rsyslog), with
    /// `log_line_prefix = 'user=%u,db=%d,app=%a,client=%h '`.
    /// `sev` is the syslog severity of the whole message (a `DETAIL` line carries its parent's).
    fn pg(
        &mut self,
        at: DateTime<Utc>,
        h: usize,
        pid: u32,
        seq: u32,
        sev: u8,
        prefix: &str,
        level: &str,
        msg: &str,
    ) {
        let m = format!("[{seq}-1] {prefix} {level}:  {msg}");
        self.ietf(at, h, pri(LOCAL0, sev), "postgres", pid, "-", "-", &m);
    }

    /// sw-core (Cisco IOS) message; the sequence number is filled in time order later.
    fn ios(&mut self, at: DateTime<Utc>, sev: u8, msg: &str) {
        let mut m = String::with_capacity(msg.len() + 32);
        ts_bsd(&mut m, at);
        let _ = write!(m, ".{:03} ICT: {msg}", at.timestamp_subsec_millis());
        self.bsd(at, SW_CORE, pri(LOCAL7, sev), SEQ_MARK, None, &m);
    }

    fn ma_ho_so(&mut self, at: DateTime<Utc>) -> String {
        let l = local(at);
        format!(
            "000.00.{:02}.H29-{:02}{:02}{:02}-{:04}",
            self.int(10, 40),
            l.year() % 100,
            l.month(),
            l.day(),
            self.int(1, 2400)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Normal traffic
// ---------------------------------------------------------------------------------------------

/// A source of normal traffic, drawn as a Poisson process modulated by the daily rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    Portal,
    Dvc,
    DvcError,
    DvcAudit,
    QlvbAudit,
    Lgsp,
    FwIn,
    FwOut,
    FwNoise,
    FwIps,
    FwCore,
    Dns,
    MailIn,
    MailOut,
    MailSpam,
    Imap,
    Pg,
    PgSlow,
    PgAuthFail,
    Admin,
    Switch,
    SwitchCfg,
    Waf,
}

/// Source, occurrences per hour at the busiest hour, share independent of the rhythm, and
/// about how many lines one occurrence writes.
const SOURCES: &[(Src, f64, f64, f64)] = &[
    (Src::Portal, 800.0, 0.03, 4.0),
    (Src::Dvc, 380.0, 0.02, 4.5),
    (Src::DvcError, 5.0, 0.3, 1.0),
    (Src::DvcAudit, 70.0, 0.0, 1.0),
    (Src::QlvbAudit, 60.0, 0.0, 1.0),
    (Src::Lgsp, 260.0, 0.05, 1.0),
    (Src::FwIn, 280.0, 0.1, 1.0),
    (Src::FwOut, 220.0, 0.05, 1.0),
    (Src::FwNoise, 240.0, 1.0, 1.0),
    (Src::FwIps, 2.5, 1.0, 1.0),
    (Src::FwCore, 70.0, 0.4, 1.0),
    (Src::Dns, 330.0, 0.08, 2.6),
    (Src::MailIn, 70.0, 0.15, 7.0),
    (Src::MailOut, 35.0, 0.02, 7.0),
    (Src::MailSpam, 25.0, 0.6, 3.0),
    (Src::Imap, 55.0, 0.05, 2.0),
    (Src::Pg, 160.0, 0.1, 3.0),
    (Src::PgSlow, 8.0, 0.2, 1.0),
    (Src::PgAuthFail, 0.4, 0.5, 3.0),
    (Src::Admin, 2.5, 0.03, 11.0),
    (Src::Switch, 1.2, 0.1, 4.0),
    (Src::SwitchCfg, 0.15, 0.0, 2.0),
    (Src::Waf, 4.0, 0.6, 1.0),
];

const PUBLIC_DOMAINS: &[&str] = &[
    "www.google.com",
    "dichvucong.gov.vn",
    "zalo.me",
    "chat.zalo.me",
    "www.facebook.com",
    "login.microsoftonline.com",
    "fe2.update.microsoft.com",
    "vnexpress.net",
    "thuvienphapluat.vn",
    "ocsp.digicert.com",
    "baochinhphu.vn",
    "www.youtube.com",
    "ctldl.windowsupdate.com",
    "clients4.google.com",
    "time.windows.com",
    "ocsp.vnpt-ca.vn",
    "api.zalo.me",
    "outlook.office365.com",
    "www.gstatic.com",
    "tuoitre.vn",
    "vanban.chinhphu.vn",
    "csdl.dangkykinhdoanh.gov.vn",
];
const INTERNAL_NAMES: &[(&str, usize)] = &[
    ("mail.dongthap.gov.vn", MAIL),
    ("qlvb.dongthap.gov.vn", QLVB),
    ("lgsp.dongthap.gov.vn", LGSP1),
    ("baocao.dongthap.gov.vn", BC01),
    ("dongthap.gov.vn", WEB01),
    ("dichvucong.dongthap.gov.vn", WAF),
];
const MAIL_PEERS: &[&str] = &[
    "mic.gov.vn",
    "mof.gov.vn",
    "mpi.gov.vn",
    "angiang.gov.vn",
    "cantho.gov.vn",
    "vnpt.vn",
    "example.com",
    "example.org",
    "vietcombank.com.vn",
    "baohiemxahoi.gov.vn",
];
/// (consumer, api, method, resource)
const LGSP_APIS: &[(&str, &str, &str, &str)] = &[
    ("motcua-dongthap", "CSDLQGDC-TraCuuCongDan", "POST", "/csdldc/v1/tra-cuu-cong-dan"),
    ("motcua-dongthap", "NDXP-HoTich", "POST", "/ndxp/hotich/v1/dong-bo-ho-so"),
    ("motcua-dongthap", "DVCQG-DongBoTrangThai", "POST", "/dvcqg/v1/dong-bo-trang-thai"),
    ("motcua-dongthap", "VNPost-ChuyenPhat", "POST", "/vnpost/v1/dat-hang-chuyen-phat"),
    ("motcua-dongthap", "PaymentPlatform", "GET", "/thanhtoan/v1/trang-thai-giao-dich"),
    ("qlvb-dongthap", "VDXP-LienThongVanBan", "POST", "/vdxp/v1/gui-van-ban"),
    ("qlvb-dongthap", "VDXP-LienThongVanBan", "GET", "/vdxp/v1/nhan-van-ban"),
    ("baocao-skhdt", "HTTTBCQG-ChiTieu", "POST", "/baocao/v1/chi-tieu"),
    ("motcua-dongthap", "CSDLDatDai-ThuaDat", "GET", "/datdai/v1/thua-dat"),
];
/// (client host, user, database, application_name, server)
const PG_CLIENTS: &[(usize, &str, &str, &str, usize)] = &[
    (LGSP1, "lgsp_app", "csdl_dungchung", "PostgreSQL JDBC Driver", DB01),
    (LGSP2, "lgsp_app", "csdl_dungchung", "PostgreSQL JDBC Driver", DB01),
    (DVC1, "motcua_app", "motcua", "motcua-api", DB01),
    (DVC2, "motcua_app", "motcua", "motcua-api", DB01),
    (QLVB, "qlvb_app", "qlvb", "PostgreSQL JDBC Driver", DB01),
    (BC01, "bc_report", "baocao", "baocao-etl", DB02),
    (LGSP1, "lgsp_ro", "csdl_dungchung", "PostgreSQL JDBC Driver", DB02),
];
const SLOW_QUERIES: &[(usize, &str)] = &[
    (
        2,
        "SELECT hs.ma_ho_so, hs.trang_thai, hs.ngay_tiep_nhan FROM ho_so hs JOIN thu_tuc tt ON tt.id = hs.thu_tuc_id WHERE hs.don_vi_id = $1 AND hs.ngay_tiep_nhan >= $2 ORDER BY hs.ngay_tiep_nhan DESC LIMIT 50",
    ),
    (4, "SELECT count(*) FROM van_ban_den vb WHERE vb.don_vi_id = $1 AND vb.so_den LIKE $2"),
    (
        0,
        "SELECT cd.so_dinh_danh, cd.ho_ten, cd.ngay_sinh FROM cong_dan cd WHERE cd.so_dinh_danh = $1",
    ),
    (2, "UPDATE ho_so SET trang_thai = $1, ngay_cap_nhat = now() WHERE id = $2"),
    (
        5,
        "SELECT chi_tieu_id, ky_bao_cao, sum(gia_tri) FROM bao_cao_chi_tieu WHERE ky_bao_cao BETWEEN $1 AND $2 GROUP BY chi_tieu_id, ky_bao_cao",
    ),
];
/// Internet background noise at the border: ports and the FortiGate service names.
const NOISE_PORTS: &[(u16, &str)] = &[
    (23, "TELNET"),
    (2323, "tcp/2323"),
    (445, "SMB"),
    (3389, "RDP"),
    (1433, "MS-SQL"),
    (3306, "MYSQL"),
    (5900, "VNC"),
    (6379, "tcp/6379"),
    (8080, "tcp/8080"),
    (8443, "tcp/8443"),
    (5060, "SIP"),
    (9200, "tcp/9200"),
    (7547, "tcp/7547"),
    (81, "tcp/81"),
    (8888, "tcp/8888"),
    (5555, "tcp/5555"),
];
/// IPS signatures seen in internet background noise: (name, id, severity, port, message).
const IPS_NOISE: &[(&str, u32, &str, u16)] = &[
    ("Apache.Log4j.Error.Log.Remote.Code.Execution", 51006, "critical", 443),
    ("PHPUnit.Eval-stdin.PHP.Remote.Code.Execution", 45097, "critical", 443),
    ("ThinkPHP.Controller.Parameter.Remote.Code.Execution", 47151, "high", 80),
    ("Netgear.DGN1000.CGI.Unauthenticated.Remote.Code.Execution", 46131, "high", 8080),
    ("Mirai.Botnet", 43391, "high", 23),
];

/// A staff workstation (any tenant).
fn workstation(g: &mut Gen) -> usize {
    WS_FIRST + g.rng.gen_range(0..ORGANIZATIONS.len())
}

/// Commands admins run with sudo on a host: (run-as user, command).
fn admin_commands(h: usize) -> &'static [(&'static str, &'static str)] {
    match h {
        WEB01 | WEB02 => &[
            ("root", "/usr/bin/systemctl reload nginx"),
            ("root", "/usr/sbin/nginx -t"),
            ("root", "/usr/bin/tail -n 200 /var/log/nginx/error.log"),
            ("root", "/usr/bin/apt update"),
        ],
        DVC1 | DVC2 => &[
            ("root", "/usr/bin/systemctl restart motcua"),
            ("root", "/usr/sbin/apache2ctl configtest"),
            ("root", "/usr/bin/systemctl reload apache2"),
            ("root", "/usr/bin/journalctl -u motcua --since today"),
        ],
        MAIL => &[
            ("root", "/usr/sbin/postqueue -p"),
            ("root", "/usr/sbin/postsuper -d ALL deferred"),
            ("root", "/usr/bin/doveadm who"),
        ],
        DB01 | DB02 => &[
            ("postgres", "/usr/bin/psql"),
            ("root", "/usr/bin/systemctl status postgresql@16-main"),
            ("root", "/usr/bin/su - postgres"),
        ],
        DNS => &[
            ("root", "/usr/bin/systemctl restart dnsmasq"),
            ("root", "/usr/bin/vi /etc/dnsmasq.d/dongthap.conf"),
        ],
        LGSP1 | LGSP2 => &[
            ("root", "/usr/bin/systemctl restart wso2am"),
            ("root", "/usr/bin/tail -n 500 /opt/wso2am/repository/logs/wso2carbon.log"),
        ],
        _ => &[
            ("root", "/usr/bin/systemctl restart tomcat9"),
            ("root", "/usr/bin/apt list --upgradable"),
        ],
    }
}

impl Gen {
    /// Poisson arrivals of every normal source over `[from, to)`, thinned by the daily rhythm.
    fn normal(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        for &(src, per_hour, floor, _) in SOURCES {
            let rate = per_hour / 3600.0;
            let mut t = from;
            loop {
                let u: f64 = self.rng.gen_range(0.0..1.0);
                let gap = -(1.0 - u).ln() / rate;
                t += Duration::microseconds((gap * 1e6) as i64 + 1);
                if t >= to {
                    break;
                }
                if self.chance(floor + (1.0 - floor) * rhythm(t)) {
                    self.occur(src, t);
                }
            }
        }
    }

    fn occur(&mut self, src: Src, at: DateTime<Utc>) {
        match src {
            Src::Portal => self.portal(at),
            Src::Dvc => self.dvc(at),
            Src::DvcError => self.dvc_error(at),
            Src::DvcAudit => self.dvc_audit(at),
            Src::QlvbAudit => self.qlvb_audit(at),
            Src::Lgsp => self.lgsp(at),
            Src::FwIn => self.fw_in(at),
            Src::FwOut => self.fw_out(at),
            Src::FwNoise => self.fw_noise(at),
            Src::FwIps => self.fw_ips(at),
            Src::FwCore => self.fw_core(at),
            Src::Dns => self.dns(at),
            Src::MailIn => self.mail_in(at),
            Src::MailOut => self.mail_out(at),
            Src::MailSpam => self.mail_spam(at),
            Src::Imap => self.imap(at),
            Src::Pg => self.pg_session(at),
            Src::PgSlow => self.pg_slow(at),
            Src::PgAuthFail => self.pg_auth_fail(at),
            Src::Admin => {
                let h = self.pick(LINUX);
                let a = self.rng.gen_range(0..ADMINS.len());
                self.admin_session(at, h, a);
            }
            Src::Switch => self.switch_flap(at),
            Src::SwitchCfg => self.switch_cfg(at),
            Src::Waf => self.waf_noise(at),
        }
    }

    // --- web ---

    fn portal(&mut self, at: DateTime<Utc>) {
        let h = if self.chance(0.5) { WEB01 } else { WEB02 };
        let ip = self.citizen();
        let bot = self.chance(0.07);
        let ua = if bot { self.pick(BOT_UAS) } else { self.pick(BROWSER_UAS) };
        let proto = if !bot && self.chance(0.7) { "HTTP/2.0" } else { "HTTP/1.1" };
        let l = local(at);
        let (path, lo, hi, page) = match self.int(0, 100) {
            0..=17 => ("/".to_string(), 38_000, 46_000, true),
            18..=54 => {
                let s = self.pick(NEWS_SLUGS);
                (format!("/tin-tuc/{s}-{}.html", self.int(21_000, 24_800)), 24_000, 61_000, true)
            }
            55..=61 => (format!("/tin-tuc?page={}", self.int(2, 25)), 31_000, 36_000, true),
            62..=67 => {
                let s = self.pick(NEWS_SLUGS);
                (format!("/thong-bao/{s}.html"), 21_000, 30_000, true)
            }
            68..=75 => {
                let k = self.pick(&["quyet-dinh", "ke-hoach", "cong-van", "chi-thi"]);
                (
                    format!("/van-ban-phap-luat?loai={k}&page={}", self.int(1, 12)),
                    28_000,
                    34_000,
                    true,
                )
            }
            76..=81 => (
                format!("/van-ban-phap-luat/quyet-dinh-so-{}-qd-ubnd.html", self.int(1500, 3200)),
                19_000,
                23_000,
                true,
            ),
            82..=85 => (
                format!(
                    "/uploads/{}/{:02}/qd-{}-ubnd.pdf",
                    l.year(),
                    l.month(),
                    self.int(1500, 3200)
                ),
                180_000,
                2_400_000,
                false,
            ),
            86..=89 => {
                let q = self.pick(SEARCH_TERMS);
                (format!("/tim-kiem?q={q}"), 17_000, 29_000, true)
            }
            90..=92 => ("/lich-cong-tac-tuan".to_string(), 15_000, 19_000, true),
            93..=94 => ("/gioi-thieu/tong-quan-dong-thap".to_string(), 27_000, 27_600, true),
            95..=96 => ("/lien-he".to_string(), 12_000, 12_400, true),
            97 => ("/rss/tin-tuc.rss".to_string(), 41_000, 43_000, false),
            _ => ("/sitemap.xml".to_string(), 88_000, 90_000, false),
        };
        let (status, bytes) = if path.starts_with("/tin-tuc/") && self.chance(0.03) {
            (404, 3571)
        } else if self.chance(0.003) {
            (502, 552)
        } else {
            (200, self.int(lo, hi) as u64)
        };
        let referrer = if self.chance(0.4) {
            self.pick(REFERRERS).to_string()
        } else if self.chance(0.4) {
            format!("https://{PORTAL_HOST}/")
        } else {
            "-".to_string()
        };
        let r =
            Req { ip, method: "GET", path: &path, proto, status, bytes, referrer: &referrer, ua };
        self.nginx(at, h, &r);
        if bot || status != 200 || !page || self.chance(0.25) {
            return;
        }
        // A first or returning visit: page assets (returning browsers revalidate: 304).
        let returning = self.chance(0.45);
        let page_url = format!("https://{PORTAL_HOST}{path}");
        let img =
            format!("/uploads/{}/{:02}/anh-{}-1.jpg", l.year(), l.month(), self.pick(NEWS_SLUGS));
        let assets: [(&str, u64); 7] = [
            ("/static/css/main.min.css?v=3.2.1", 48_213),
            ("/static/js/jquery-3.7.1.min.js", 87_533),
            ("/static/js/app.bundle.js?v=3.2.1", 156_204),
            ("/static/img/logo-dong-thap.png", 23_120),
            ("/static/fonts/roboto-v30-vietnamese-regular.woff2", 18_432),
            (img.as_str(), 80_000 + fnv(&img) % 220_000),
            ("/favicon.ico", 4286),
        ];
        let n = self.rng.gen_range(2..=6);
        let mut t = at;
        for &(p, size) in assets.iter().take(n) {
            t += self.ms_between(40, 600);
            let (status, bytes) = if returning { (304, 0) } else { (200, size) };
            let r =
                Req { ip, method: "GET", path: p, proto, status, bytes, referrer: &page_url, ua };
            self.nginx(t, h, &r);
        }
    }

    fn dvc(&mut self, at: DateTime<Utc>) {
        let h = if self.chance(0.5) { DVC1 } else { DVC2 };
        let ip = self.citizen();
        let bot = self.chance(0.04);
        let ua = if bot { self.pick(BOT_UAS) } else { self.pick(BROWSER_UAS) };
        let home = format!("https://{DVC_HOST}/");
        let ext = if self.chance(0.5) { self.pick(REFERRERS).to_string() } else { "-".to_string() };
        let mut reqs: Vec<(i64, &str, String, u16, u64, String)> = Vec::with_capacity(6);
        let mut page = true;
        match self.int(0, 100) {
            0..=14 => reqs.push((0, "GET", "/".into(), 200, self.int(14_000, 16_500) as u64, ext)),
            15..=29 => {
                let lv = self.pick(LINH_VUC);
                reqs.push((
                    0,
                    "GET",
                    format!("/dich-vu-cong/thu-tuc-hanh-chinh?linh-vuc={lv}"),
                    200,
                    self.int(22_000, 41_000) as u64,
                    home.clone(),
                ));
            }
            30..=41 => {
                let c = self.pick(TTHC);
                reqs.push((
                    0,
                    "GET",
                    format!("/dich-vu-cong/thu-tuc/{c}"),
                    200,
                    self.int(18_000, 26_000) as u64,
                    ext,
                ));
            }
            42..=53 => {
                let ma = self.ma_ho_so(at);
                reqs.push((
                    0,
                    "GET",
                    format!("/dich-vu-cong/tra-cuu-ho-so?ma={ma}"),
                    200,
                    self.int(9_000, 12_000) as u64,
                    home.clone(),
                ));
            }
            54..=61 => {
                reqs.push((
                    0,
                    "GET",
                    "/dang-nhap".into(),
                    200,
                    self.int(7_900, 8_300) as u64,
                    home.clone(),
                ));
                if self.chance(0.8) {
                    let login = format!("https://{DVC_HOST}/dang-nhap");
                    reqs.push((
                        self.int(4_000, 25_000),
                        "POST",
                        "/dang-nhap".into(),
                        302,
                        0,
                        login.clone(),
                    ));
                    reqs.push((
                        self.int(100, 400),
                        "GET",
                        "/".into(),
                        200,
                        self.int(14_000, 16_500) as u64,
                        login,
                    ));
                } else {
                    let (code, state) = (self.hex(32, false), self.hex(16, false));
                    reqs.push((
                        self.int(20_000, 90_000),
                        "GET",
                        format!("/dang-nhap/vneid/callback?code={code}&state={state}"),
                        302,
                        0,
                        "https://sso.vneid.gov.vn/".into(),
                    ));
                }
            }
            62..=71 => {
                let c = self.pick(TTHC);
                let form = format!("https://{DVC_HOST}/dich-vu-cong/nop-ho-so?thu-tuc={c}");
                reqs.push((
                    0,
                    "GET",
                    format!("/dich-vu-cong/nop-ho-so?thu-tuc={c}"),
                    200,
                    self.int(31_000, 36_000) as u64,
                    home.clone(),
                ));
                for _ in 0..self.rng.gen_range(1..4) {
                    reqs.push((
                        self.int(20_000, 120_000),
                        "POST",
                        "/api/ho-so/dinh-kem".into(),
                        200,
                        self.int(180, 260) as u64,
                        form.clone(),
                    ));
                }
                reqs.push((
                    self.int(15_000, 90_000),
                    "POST",
                    "/dich-vu-cong/nop-ho-so".into(),
                    302,
                    0,
                    form.clone(),
                ));
                let ma = self.ma_ho_so(at);
                reqs.push((
                    self.int(150, 400),
                    "GET",
                    format!("/dich-vu-cong/nop-ho-so/thanh-cong?ma={ma}"),
                    200,
                    self.int(8_000, 8_600) as u64,
                    form,
                ));
            }
            72..=81 => {
                page = false;
                let ma = self.ma_ho_so(at);
                let r = format!("https://{DVC_HOST}/dich-vu-cong/tra-cuu-ho-so?ma={ma}");
                reqs.push((
                    0,
                    "GET",
                    format!("/api/ho-so/trang-thai?ma={ma}"),
                    200,
                    self.int(300, 720) as u64,
                    r,
                ));
            }
            82..=88 => {
                page = false;
                let txn = self.int(10_000_000, 99_999_999);
                reqs.push((
                    0,
                    "GET",
                    format!("/thanh-toan/ket-qua?vnp_ResponseCode=00&vnp_TxnRef={txn}"),
                    200,
                    self.int(6_000, 6_400) as u64,
                    "https://pay.vnpay.vn/".into(),
                ));
            }
            89..=94 => {
                page = false;
                let c = self.pick(TTHC);
                reqs.push((
                    0,
                    "GET",
                    format!("/dich-vu-cong/thu-tuc/{c}/bieu-mau/mau-01.docx"),
                    200,
                    self.int(30_000, 48_000) as u64,
                    format!("https://{DVC_HOST}/dich-vu-cong/thu-tuc/{c}"),
                ));
            }
            _ => {
                page = false;
                let p = self.pick(&[
                    "/dvc/portal/TraCuuHoSo.aspx",
                    "/apple-touch-icon.png",
                    "/dich-vu-cong/thu-tuc/1.00422",
                ]);
                reqs.push((0, "GET", p.into(), 404, 196, "-".into()));
            }
        }
        let mut t = at;
        for (i, (delay, method, path, status, bytes, referrer)) in reqs.iter().enumerate() {
            t += ms(*delay);
            let r = Req {
                ip,
                method,
                path,
                proto: "HTTP/1.1",
                status: *status,
                bytes: *bytes,
                referrer,
                ua,
            };
            self.apache(t, h, &r);
            if i == 0 && page && !bot && self.chance(0.7) {
                let returning = self.chance(0.4);
                let purl = format!("https://{DVC_HOST}{path}");
                let assets: [(&str, u64); 4] = [
                    ("/assets/css/dvc.min.css?v=2.8.4", 61_877),
                    ("/assets/js/vendor/bootstrap.bundle.min.js", 80_663),
                    ("/assets/js/dvc.min.js?v=2.8.4", 203_418),
                    ("/assets/img/quoc-huy.png", 15_402),
                ];
                let mut ta = t;
                for &(p, size) in &assets {
                    ta += self.ms_between(30, 400);
                    let (st, b) = if returning { (304, 0) } else { (200, size) };
                    let r = Req {
                        ip,
                        method: "GET",
                        path: p,
                        proto: "HTTP/1.1",
                        status: st,
                        bytes: b,
                        referrer: &purl,
                        ua,
                    };
                    self.apache(ta, h, &r);
                }
            }
        }
    }

    fn dvc_error(&mut self, at: DateTime<Utc>) {
        let h = if self.chance(0.5) { DVC1 } else { DVC2 };
        let ip = self.citizen();
        let port = self.win_port();
        match self.int(0, 4) {
            0 => self.apache_error(
                at,
                h,
                "proxy_http",
                "error",
                Some((ip, port)),
                "(70007)The timeout specified has expired: AH01102: error reading status line from remote server 127.0.0.1:8080",
            ),
            1 => self.apache_error(at, h, "proxy", "error", Some((ip, port)), "AH00898: Error reading from remote server returned by /dich-vu-cong/nop-ho-so"),
            2 => self.apache_error(at, h, "authz_core", "error", Some((ip, port)), "AH01630: client denied by server configuration: /var/www/dvc/server-status"),
            _ => self.apache_error(
                at,
                h,
                "core",
                "info",
                Some((ip, port)),
                "AH00128: File does not exist: /var/www/dvc/public/apple-touch-icon.png",
            ),
        }
    }

    fn dvc_audit(&mut self, at: DateTime<Utc>) {
        let h = if self.chance(0.5) { DVC1 } else { DVC2 };
        let org = self.pick(ORGANIZATIONS).id;
        let short = org.trim_start_matches("ubnd-");
        let user = format!("cb.{}.{}{:02}", self.pick(&["tn", "xl", "ld"]), short, self.int(1, 9));
        let ma = self.ma_ho_so(at);
        let code = self.pick(TTHC);
        let (action, msg) = match self.int(0, 6) {
            0 => ("DANG_NHAP", "Đăng nhập thành công".to_string()),
            1 => ("TIEP_NHAN_HO_SO", format!("Tiếp nhận hồ sơ {ma} thủ tục {code}")),
            2 => ("CHUYEN_XU_LY", format!("Chuyển hồ sơ {ma} sang bước thẩm định")),
            3 => ("PHE_DUYET", format!("Phê duyệt hồ sơ {ma}")),
            4 => ("TRA_KET_QUA", format!("Trả kết quả hồ sơ {ma}")),
            _ => ("YEU_CAU_BO_SUNG", format!("Yêu cầu bổ sung hồ sơ {ma}")),
        };
        let ip = host_ip(workstation(self));
        let sd = format!(
            "[audit@32473 user=\"{user}\" action=\"{action}\" hoso=\"{ma}\" donvi=\"{org}\" ip=\"{ip}\"]"
        );
        let pid = self.daemon(h, D_MAIN);
        self.ietf(at, h, pri(1, NOTICE), "motcua", pid, "AUDIT", &sd, &msg);
    }

    fn qlvb_audit(&mut self, at: DateTime<Utc>) {
        let org = self.pick(ORGANIZATIONS).id;
        let user = format!("{}.{}", self.pick(MAIL_USERS), org.trim_start_matches("ubnd-"));
        let so = self.int(1200, 4800);
        let l = local(at);
        let (action, msg) = match self.int(0, 5) {
            0 => ("DANG_NHAP", "Đăng nhập hệ thống".to_string()),
            1 => ("VAN_BAN_DEN", format!("Vào sổ văn bản đến số {so}/{} ", l.year())),
            2 => ("KY_SO", format!("Ký số văn bản {so}/QĐ-UBND")),
            3 => ("PHAT_HANH", format!("Phát hành văn bản {so}/UBND-VP")),
            _ => ("XU_LY", format!("Cập nhật ý kiến xử lý văn bản {so}")),
        };
        let ip = host_ip(workstation(self));
        let sd = format!(
            "[audit@32473 user=\"{user}\" action=\"{action}\" donvi=\"{org}\" ip=\"{ip}\"]"
        );
        let pid = self.daemon(QLVB, D_MAIN);
        self.ietf(at, QLVB, pri(1, NOTICE), "qlvb", pid, "AUDIT", &sd, msg.trim_end());
    }

    fn lgsp(&mut self, at: DateTime<Utc>) {
        let h = if self.chance(0.5) { LGSP1 } else { LGSP2 };
        let (consumer, api, method, res) = self.pick(LGSP_APIS);
        let (status, latency) = match self.int(0, 100) {
            0..=93 => (200, self.int(35, 900)),
            94..=95 => (401, self.int(5, 30)),
            96 => (429, self.int(2, 10)),
            97..=98 => (502, self.int(20, 300)),
            _ => (504, 30_000),
        };
        let client = match consumer {
            "qlvb-dongthap" => host_ip(QLVB),
            "baocao-skhdt" => host_ip(BC01),
            _ => host_ip(if self.chance(0.5) { DVC1 } else { DVC2 }),
        };
        let req = self.hex(12, false);
        let sd = format!(
            "[api@32473 requestId=\"{req}\" consumer=\"{consumer}\" api=\"{api}\" method=\"{method}\" resource=\"{res}\" status=\"{status}\" latencyMs=\"{latency}\" client=\"{client}\"]"
        );
        let msg = format!("{method} {res} {status} {latency}ms");
        let sev = if status >= 500 { WARNING } else { INFO };
        let pid = self.daemon(h, D_MAIN);
        self.ietf(at, h, pri(LOCAL0, sev), "lgsp-gateway", pid, "ACCESS", &sd, &msg);
    }

    // --- firewalls ---

    fn fw_in(&mut self, at: DateTime<Utc>) {
        let src = self.citizen();
        let spt = self.win_port();
        let (dst, dpt, policy, service, app, sent, rcvd) = match self.int(0, 10) {
            0..=4 => {
                let d = if self.chance(0.5) { WEB01 } else { WEB02 };
                (
                    host_ip(d),
                    443,
                    12,
                    "HTTPS",
                    "HTTPS.BROWSER",
                    self.int(900, 6000),
                    self.int(8_000, 400_000),
                )
            }
            5..=8 => (
                host_ip(WAF),
                443,
                13,
                "HTTPS",
                "HTTPS.BROWSER",
                self.int(1500, 40_000),
                self.int(9_000, 300_000),
            ),
            _ => (
                host_ip(MAIL),
                25,
                15,
                "SMTP",
                "SMTP",
                self.int(4000, 90_000),
                self.int(1200, 3000),
            ),
        };
        let f = Flow { src, spt, dst, dpt, proto: 6 };
        let dur = self.rng.gen_range(1..45);
        self.fgt_traffic(at, f, true, policy, service, Some(app), dur, sent as u64, rcvd as u64);
    }

    fn fw_out(&mut self, at: DateTime<Utc>) {
        let (src, dpt, proto, policy, service, app, dst) = match self.int(0, 10) {
            0..=7 => {
                let ws = workstation(self);
                let d = self.pick(PUBLIC_DOMAINS);
                let app = if d.contains("zalo") {
                    "Zalo"
                } else if d.contains("google") || d.contains("youtube") {
                    "Google.Services"
                } else if d.contains("microsoft") || d.contains("windows") || d.contains("office") {
                    "Microsoft.Portal"
                } else {
                    "HTTPS.BROWSER"
                };
                (host_ip(ws), 443, 6, 21, "HTTPS", app, public_ip(d))
            }
            8 => {
                let d = self.pick(MAIL_PEERS);
                (host_ip(MAIL), 25, 6, 23, "SMTP", "SMTP", public_ip(d))
            }
            _ => (
                host_ip(DNS),
                53,
                17,
                22,
                "DNS",
                "DNS",
                UPSTREAM_DNS.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            ),
        };
        let spt = if src.octets()[3] > 100 { self.win_port() } else { self.eph_port() };
        let f = Flow { src, spt, dst, dpt, proto };
        let (dur, sent, rcvd) = if proto == 17 {
            (0, self.int(60, 90) as u64, self.int(90, 300) as u64)
        } else {
            (
                self.rng.gen_range(1..120),
                self.int(1200, 30_000) as u64,
                self.int(4_000, 2_000_000) as u64,
            )
        };
        self.fgt_traffic(at, f, true, policy, service, Some(app), dur, sent, rcvd);
    }

    fn fw_noise(&mut self, at: DateTime<Utc>) {
        let src = self.citizen();
        let d = self.pick(&[WEB01, WEB02, DVC1, DVC2, MAIL, WAF]);
        let (dpt, service) = self.pick(NOISE_PORTS);
        let f = Flow { src, spt: self.eph_port(), dst: host_ip(d), dpt, proto: 6 };
        self.fgt_traffic(at, f, false, 0, service, None, 0, 0, 0);
    }

    fn fw_ips(&mut self, at: DateTime<Utc>) {
        let src = self.citizen();
        let (name, id, sev, dpt) = self.pick(IPS_NOISE);
        let d = self.pick(&[WEB01, WEB02, WAF]);
        let f = Flow { src, spt: self.eph_port(), dst: host_ip(d), dpt, proto: 6 };
        let msg =
            format!("{}: {name}", if sev == "critical" { "web_app3" } else { "applications3" });
        self.fgt_threat(at, f, false, name, id, sev, &msg);
    }

    fn fw_core(&mut self, at: DateTime<Utc>) {
        let ws = host_ip(workstation(self));
        match self.int(0, 10) {
            0..=2 => {
                let db = host_ip(if self.chance(0.6) { DB01 } else { DB02 });
                let dpt = self.pick(&[5432, 5432, 1433, 3389, 22]);
                let spt = self.win_port();
                self.iptables(at, "DROP", ws, db, "TCP", spt, dpt);
            }
            3..=4 => {
                let d = host_ip(self.pick(&[WEB01, DVC1, MAIL]));
                let spt = self.win_port();
                let dpt = self.pick(&[445, 139, 3389]);
                self.iptables(at, "DROP", ws, d, "TCP", spt, dpt);
            }
            5..=7 => {
                let p = self.pick(&[137, 138]);
                self.iptables(at, "DROP", ws, Ipv4Addr::new(10, 10, 2, 255), "UDP", p, p);
            }
            8 => {
                let spt = self.win_port();
                self.iptables(at, "DROP", ws, Ipv4Addr::new(239, 255, 255, 250), "UDP", spt, 1900);
            }
            _ => {
                let d = host_ip(if self.chance(0.5) { DB01 } else { QLVB });
                let seq = self.rng.gen_range(1..20);
                self.iptables(at, "DROP", ws, d, "ICMP", seq, 0);
            }
        }
    }

    // --- DNS ---

    fn dns(&mut self, at: DateTime<Utc>) {
        let client = if self.chance(0.8) {
            host_ip(workstation(self))
        } else {
            host_ip(self.pick(&[QLVB, LGSP1, LGSP2, BC01]))
        };
        let pid = self.daemon(DNS, D_MAIN);
        let p = pri(DAEMON, INFO);
        let mut t = at;
        if self.chance(0.25) {
            let (name, h) = self.pick(INTERNAL_NAMES);
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("query[A] {name} from {client}"));
            t += self.ms_between(0, 2);
            self.bsd(
                t,
                DNS,
                p,
                "dnsmasq",
                Some(pid),
                &format!("/etc/hosts {name} is {}", host_ip(h)),
            );
            return;
        }
        let name = self.pick(PUBLIC_DOMAINS);
        let ip = public_ip(name);
        self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("query[A] {name} from {client}"));
        t += self.ms_between(0, 2);
        if self.chance(0.4) {
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("cached {name} is {ip}"));
            return;
        }
        self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("forwarded {name} to {UPSTREAM_DNS}"));
        t += self.ms_between(8, 60);
        if name == "www.facebook.com" || name == "www.youtube.com" {
            let cname = if name == "www.facebook.com" {
                "star-mini.c10r.facebook.com"
            } else {
                "youtube-ui.l.google.com"
            };
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("reply {name} is <CNAME>"));
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("reply {cname} is {ip}"));
        } else {
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("reply {name} is {ip}"));
        }
        if self.chance(0.2) {
            t += self.ms_between(1, 5);
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("query[AAAA] {name} from {client}"));
            self.bsd(
                t,
                DNS,
                p,
                "dnsmasq",
                Some(pid),
                &format!("forwarded {name} to {UPSTREAM_DNS}"),
            );
            t += self.ms_between(8, 60);
            self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("reply {name} is NODATA-IPv6"));
        }
    }

    // --- mail ---

    fn qid(&mut self) -> String {
        self.hex(10, true)
    }

    fn mail_in(&mut self, at: DateTime<Utc>) {
        let dom = self.pick(MAIL_PEERS);
        let ip = public_ip(dom);
        let peer = format!("mail.{dom}[{ip}]");
        let user = self.pick(MAIL_USERS);
        let sender = self.pick(&["vanthu", "noreply", "thongbao", "hotro", "tonghop", "phongtchc"]);
        let qid = self.qid();
        let p = pri(MAILF, INFO);
        let smtpd = self.daemon(MAIL, D_A);
        let (cleanup, qmgr, lmtp) =
            (self.daemon(MAIL, D_C), self.daemon(MAIL, D_MAIN), self.daemon(MAIL, D_D));
        let size = self.int(3_000, 2_500_000);
        let mut t = at;
        self.bsd(t, MAIL, p, "postfix/smtpd", Some(smtpd), &format!("connect from {peer}"));
        t += self.ms_between(300, 1500);
        self.bsd(t, MAIL, p, "postfix/smtpd", Some(smtpd), &format!("{qid}: client={peer}"));
        t += self.ms_between(100, 900);
        let mid = self.hex(16, false);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/cleanup",
            Some(cleanup),
            &format!("{qid}: message-id=<{mid}@{dom}>"),
        );
        t += self.ms_between(20, 200);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/qmgr",
            Some(qmgr),
            &format!("{qid}: from=<{sender}@{dom}>, size={size}, nrcpt=1 (queue active)"),
        );
        t += self.ms_between(5, 60);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/smtpd",
            Some(smtpd),
            &format!(
                "disconnect from {peer} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7"
            ),
        );
        t += self.ms_between(20, 300);
        let tag = self.b64(22);
        let (d1, d2) = (self.int(10, 99), self.int(5, 90));
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/lmtp",
            Some(lmtp),
            &format!(
                "{qid}: to=<{user}@{MAIL_DOMAIN}>, relay=mail01.{MAIL_DOMAIN}[private/dovecot-lmtp], delay=0.{d1:02}, delays=0.{d2:02}/0.01/0.02/0.05, dsn=2.0.0, status=sent (250 2.0.0 <{user}@{MAIL_DOMAIN}> {tag} Saved)"
            ),
        );
        t += self.ms_between(1, 5);
        self.bsd(t, MAIL, p, "postfix/qmgr", Some(qmgr), &format!("{qid}: removed"));
    }

    fn mail_out(&mut self, at: DateTime<Utc>) {
        let ws = host_ip(workstation(self));
        let user = self.pick(MAIL_USERS);
        let dom = self.pick(MAIL_PEERS);
        let rip = public_ip(dom);
        let qid = self.qid();
        let p = pri(MAILF, INFO);
        let sub = self.daemon(MAIL, D_B);
        let (cleanup, qmgr, smtp) =
            (self.daemon(MAIL, D_C), self.daemon(MAIL, D_MAIN), self.daemon(MAIL, D_D) + 7);
        let mut t = at;
        let peer = format!("unknown[{ws}]");
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/submission/smtpd",
            Some(sub),
            &format!("connect from {peer}"),
        );
        t += self.ms_between(200, 900);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/submission/smtpd",
            Some(sub),
            &format!("{qid}: client={peer}, sasl_method=LOGIN, sasl_username={user}@{MAIL_DOMAIN}"),
        );
        t += self.ms_between(100, 700);
        let mid = self.hex(16, false);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/cleanup",
            Some(cleanup),
            &format!("{qid}: message-id=<{mid}@{MAIL_DOMAIN}>"),
        );
        t += self.ms_between(10, 100);
        let size = self.int(2_000, 8_000_000);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/qmgr",
            Some(qmgr),
            &format!("{qid}: from=<{user}@{MAIL_DOMAIN}>, size={size}, nrcpt=1 (queue active)"),
        );
        t += self.ms_between(5, 60);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/submission/smtpd",
            Some(sub),
            &format!("disconnect from {peer} ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"),
        );
        t += self.ms_between(300, 2500);
        let to = self.pick(&["vanthu", "phongtchc", "lienhe", "hotro"]);
        let queued = self.hex(10, true);
        let (d1, d2, d3) = (self.int(0, 9), self.int(1, 9), self.int(1, 9));
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/smtp",
            Some(smtp),
            &format!(
                "{qid}: to=<{to}@{dom}>, relay=mail.{dom}[{rip}]:25, delay=1.{d1}, delays=0.05/0.01/0.{d2}/0.{d3}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {queued})"
            ),
        );
        t += self.ms_between(1, 5);
        self.bsd(t, MAIL, p, "postfix/qmgr", Some(qmgr), &format!("{qid}: removed"));
    }

    fn mail_spam(&mut self, at: DateTime<Utc>) {
        let ip = self.citizen();
        let smtpd = self.daemon(MAIL, D_A);
        let p = pri(MAILF, INFO);
        let user = self.pick(MAIL_USERS);
        let helo =
            self.pick(&["User", "ylmf-pc", "WIN-3K2HJ9QTR1", "localhost", "mail.example.com"]);
        let from = self.pick(&["info@example.com", "support@example.net", "billing@example.org"]);
        let mut t = at;
        self.bsd(t, MAIL, p, "postfix/smtpd", Some(smtpd), &format!("connect from unknown[{ip}]"));
        t += self.ms_between(300, 2000);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/smtpd",
            Some(smtpd),
            &format!(
                "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; from=<{from}> to=<{user}@{MAIL_DOMAIN}> proto=ESMTP helo=<{helo}>"
            ),
        );
        t += self.ms_between(100, 800);
        self.bsd(
            t,
            MAIL,
            p,
            "postfix/smtpd",
            Some(smtpd),
            &format!("disconnect from unknown[{ip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"),
        );
    }

    fn imap(&mut self, at: DateTime<Utc>) {
        let user = self.pick(MAIL_USERS);
        let rip = if self.chance(0.75) { host_ip(workstation(self)) } else { self.citizen() };
        let lip = host_ip(MAIL);
        let sess = self.b64(16);
        let p = pri(MAILF, INFO);
        if self.chance(0.05) {
            self.bsd(
                at,
                MAIL,
                p,
                "dovecot",
                None,
                &format!(
                    "imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<{user}@{MAIL_DOMAIN}>, method=PLAIN, rip={rip}, lip={lip}, TLS, session=<{sess}>"
                ),
            );
            return;
        }
        let mpid = self.pid(MAIL, at);
        self.bsd(
            at,
            MAIL,
            p,
            "dovecot",
            None,
            &format!("imap-login: Login: user=<{user}@{MAIL_DOMAIN}>, method=PLAIN, rip={rip}, lip={lip}, mpid={mpid}, TLS, session=<{sess}>"),
        );
        let end = at + Duration::seconds(self.int(20, 3600));
        let (i, o, n) = (self.int(200, 9000), self.int(2_000, 900_000), self.int(0, 12));
        self.bsd(
            end,
            MAIL,
            p,
            "dovecot",
            None,
            &format!(
                "imap({user}@{MAIL_DOMAIN})<{mpid}><{sess}>: Logged out in={i} out={o} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count={n} body_bytes={}",
                o * 8 / 10
            ),
        );
    }

    // --- PostgreSQL ---

    fn pg_session(&mut self, at: DateTime<Utc>) {
        let (client, user, db, app, server) = self.pick(PG_CLIENTS);
        let ip = host_ip(client);
        let port = self.eph_port();
        let pid = self.pid(server, at);
        let none = format!("user=[unknown],db=[unknown],app=[unknown],client={ip}");
        let pre = format!("user={user},db={db},app=[unknown],client={ip}");
        let mut t = at;
        self.pg(
            t,
            server,
            pid,
            1,
            INFO,
            &none,
            "LOG",
            &format!("connection received: host={ip} port={port}"),
        );
        t += self.ms_between(3, 25);
        self.pg(
            t,
            server,
            pid,
            2,
            INFO,
            &pre,
            "LOG",
            &format!("connection authorized: user={user} database={db} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)"),
        );
        let dur_ms = self.int(40, 180_000);
        t += ms(dur_ms);
        let pre = format!("user={user},db={db},app={app},client={ip}");
        self.pg(
            t,
            server,
            pid,
            3,
            INFO,
            &pre,
            "LOG",
            &format!(
                "disconnection: session time: 0:{:02}:{:02}.{:03} user={user} database={db} host={ip} port={port}",
                dur_ms / 60_000,
                dur_ms / 1000 % 60,
                dur_ms % 1000
            ),
        );
    }

    fn pg_slow(&mut self, at: DateTime<Utc>) {
        let (ci, q) = self.pick(SLOW_QUERIES);
        let (client, user, db, app, server) = PG_CLIENTS[ci];
        let pid = self.pid(server, at - Duration::seconds(40));
        let pre = format!("user={user},db={db},app={app},client={}", host_ip(client));
        let d = self.rng.gen_range(1000.0..9000.0);
        let seq = self.rng.gen_range(3..40);
        self.pg(
            at,
            server,
            pid,
            seq,
            INFO,
            &pre,
            "LOG",
            &format!("duration: {d:.3} ms  execute <unnamed>: {q}"),
        );
    }

    fn pg_auth_fail(&mut self, at: DateTime<Utc>) {
        let ip = host_ip(BC01);
        let port = self.eph_port();
        let pid = self.pid(DB02, at);
        let none = format!("user=[unknown],db=[unknown],app=[unknown],client={ip}");
        let pre = format!("user=bc_report,db=baocao,app=[unknown],client={ip}");
        self.pg(
            at,
            DB02,
            pid,
            1,
            INFO,
            &none,
            "LOG",
            &format!("connection received: host={ip} port={port}"),
        );
        let t = at + self.ms_between(3, 20);
        self.pg(
            t,
            DB02,
            pid,
            2,
            ERR,
            &pre,
            "FATAL",
            "password authentication failed for user \"bc_report\"",
        );
        self.pg(
            t,
            DB02,
            pid,
            3,
            ERR,
            &pre,
            "DETAIL",
            "Connection matched file \"/etc/postgresql/16/main/pg_hba.conf\" line 102: \"hostssl baocao bc_report 10.10.2.21/32 scram-sha-256\"",
        );
    }

    // --- administration ---

    /// An administrator's ssh session on `h` from the admin zone (publickey), with sudo.
    fn admin_session(&mut self, at: DateTime<Utc>, h: usize, a: usize) {
        let (user, uid, octet, fp) = ADMINS[a];
        let src = Ipv4Addr::new(10, 10, 9, octet);
        let port = self.eph_port();
        let pid = self.pid(h, at);
        let logind = self.daemon(h, D_LOGIND);
        let sess = self.session(h);
        let tty = self.rng.gen_range(0..3);
        self.iptables(at - ms(3), "ACCEPT", src, host_ip(h), "TCP", port, 22);
        let mut t = at + self.ms_between(150, 700);
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "sshd",
            Some(pid),
            &format!("Accepted publickey for {user} from {src} port {port} ssh2: ED25519 {fp}"),
        );
        t += self.ms_between(5, 30);
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sshd",
            Some(pid),
            &format!(
                "pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"
            ),
        );
        t += self.ms_between(5, 30);
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "systemd-logind",
            Some(logind),
            &format!("New session {sess} of user {user}."),
        );
        let cmds = admin_commands(h);
        for _ in 0..self.rng.gen_range(0..4) {
            t += Duration::seconds(self.int(15, 400));
            let (runas, cmd) = self.pick(cmds);
            let spid = self.pid(h, t);
            self.bsd(
                t,
                h,
                pri(AUTHPRIV, NOTICE),
                "sudo",
                None,
                &format!(
                    "{user} : TTY=pts/{tty} ; PWD=/home/{user} ; USER={runas} ; COMMAND={cmd}"
                ),
            );
            let ruid = if runas == "root" { 0 } else { 114 };
            self.bsd(t, h, pri(AUTHPRIV, INFO), "sudo", Some(spid), &format!("pam_unix(sudo:session): session opened for user {runas}(uid={ruid}) by {user}(uid={uid})"));
            let mut t2 = t + self.ms_between(200, 2000);
            if cmd.ends_with("su - postgres") {
                let supid = self.pid(h, t2);
                self.bsd(
                    t2,
                    h,
                    pri(AUTH, NOTICE),
                    "su",
                    Some(supid),
                    &format!("(to postgres) root on pts/{tty}"),
                );
                self.bsd(t2, h, pri(AUTHPRIV, INFO), "su", Some(supid), &format!("pam_unix(su-l:session): session opened for user postgres(uid=114) by {user}(uid=0)"));
                t2 += Duration::seconds(self.int(20, 300));
                self.bsd(
                    t2,
                    h,
                    pri(AUTHPRIV, INFO),
                    "su",
                    Some(supid),
                    "pam_unix(su-l:session): session closed for user postgres",
                );
                t2 += self.ms_between(5, 50);
            }
            self.bsd(
                t2,
                h,
                pri(AUTHPRIV, INFO),
                "sudo",
                Some(spid),
                &format!("pam_unix(sudo:session): session closed for user {runas}"),
            );
            t = t2;
        }
        t += Duration::seconds(self.int(30, 1800));
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "sshd",
            Some(pid),
            &format!("Received disconnect from {src} port {port}:11: disconnected by user"),
        );
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "sshd",
            Some(pid),
            &format!("Disconnected from user {user} {src} port {port}"),
        );
        t += self.ms_between(1, 20);
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sshd",
            Some(pid),
            &format!("pam_unix(sshd:session): session closed for user {user}"),
        );
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "systemd-logind",
            Some(logind),
            &format!("Session {sess} logged out. Waiting for processes to exit."),
        );
        t += self.ms_between(5, 80);
        self.bsd(
            t,
            h,
            pri(AUTH, INFO),
            "systemd-logind",
            Some(logind),
            &format!("Removed session {sess}."),
        );
    }

    fn switch_flap(&mut self, at: DateTime<Utc>) {
        let port = self.rng.gen_range(1..=48);
        let ifname = format!("GigabitEthernet1/0/{port}");
        let down_first = self.chance(0.6);
        let gap = Duration::seconds(self.int(3, 900));
        let mut t = at;
        for (i, state) in
            (if down_first { ["down", "up"] } else { ["up", "down"] }).iter().enumerate()
        {
            if i == 1 {
                t += gap;
            }
            self.ios(
                t,
                ERR,
                &format!("%LINK-3-UPDOWN: Interface {ifname}, changed state to {state}"),
            );
            t += ms(1000);
            self.ios(t, NOTICE, &format!("%LINEPROTO-5-UPDOWN: Line protocol on Interface {ifname}, changed state to {state}"));
        }
    }

    fn switch_cfg(&mut self, at: DateTime<Utc>) {
        let (user, _, octet, _) = self.pick(ADMINS);
        let src = Ipv4Addr::new(10, 10, 9, octet);
        let port = self.eph_port();
        self.iptables(at - ms(200), "ACCEPT", src, host_ip(SW_CORE), "TCP", port, 22);
        let l = local(at);
        self.ios(
            at,
            NOTICE,
            &format!(
                "%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: {user}] [Source: {src}] [localport: 22] at {:02}:{:02}:{:02} ICT {} {} {} {}",
                l.hour(),
                l.minute(),
                l.second(),
                WEEKDAYS[l.weekday().num_days_from_monday() as usize],
                MONTHS[l.month0() as usize],
                l.day(),
                l.year()
            ),
        );
        let t = at + Duration::seconds(self.int(40, 600));
        self.ios(
            t,
            NOTICE,
            &format!("%SYS-5-CONFIG_I: Configured from console by {user} on vty0 ({src})"),
        );
    }

    fn waf_noise(&mut self, at: DateTime<Utc>) {
        let ip = self.citizen();
        let (server, host) = if self.chance(0.5) { (WEB01, PORTAL_HOST) } else { (DVC1, DVC_HOST) };
        let (path, main, sub, sig, sev, ua) = match self.int(0, 4) {
            0 => (
                "/tim-kiem?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                "Cross Site Scripting",
                "Cross Site Scripting",
                "010000072",
                7,
                BROWSER_UAS[0],
            ),
            1 => (
                "/wp-login.php",
                "Known Exploits",
                "Generic Attacks(Extended)",
                "050140001",
                5,
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:89.0) Gecko/20100101 Firefox/89.0",
            ),
            2 => (
                "/?s=index/\\think\\app/invokefunction",
                "Known Exploits",
                "Remote Exploits",
                "080200005",
                9,
                "Mozilla/5.0 (compatible; Baiduspider/2.0)",
            ),
            _ => ("/", "Bad Robot", "Known Bad Robots", "100000004", 4, "python-requests/2.31.0"),
        };
        let r = Req {
            ip,
            method: "GET",
            path,
            proto: "HTTP/1.1",
            status: 403,
            bytes: 0,
            referrer: "-",
            ua,
        };
        self.fwb(
            at,
            &r,
            server,
            host,
            main,
            sub,
            sig,
            sev,
            true,
            &format!("{main}: {sub} triggered by {path}"),
        );
    }

    // --- scheduled jobs ---

    /// Everything on a clock over `[from, to)`: cron, logrotate, PostgreSQL checkpoints.
    fn scheduled(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        let (fs, ts) = (from.timestamp(), to.timestamp());
        let first = fs.div_euclid(300) * 300;
        let mut s = first;
        while s < ts {
            let minute = s.rem_euclid(3600) / 60;
            if s % 600 == 0 {
                for &h in LINUX {
                    self.cron(
                        s,
                        from,
                        to,
                        h,
                        "root",
                        0,
                        "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
                    );
                }
            }
            // Checkpoints every 5 min on db01, restartpoints on the db02 replica.
            self.checkpoint(s, from, to);
            if minute == 15 {
                // Hourly jobs run at :17 (Debian's crontab).
                for &h in LINUX {
                    self.cron(
                        s + 120,
                        from,
                        to,
                        h,
                        "root",
                        0,
                        "   cd / && run-parts --report /etc/cron.hourly",
                    );
                }
            }
            if (s + TZ_SECS).rem_euclid(86_400) == 0 {
                self.daily(s, from, to);
            }
            s += 300;
        }
    }

    fn cron(
        &mut self,
        s: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        h: usize,
        user: &str,
        uid: u32,
        cmd: &str,
    ) {
        let Some(at) = DateTime::from_timestamp(s, 0) else { return };
        let at = at + ms(1000) + self.ms_between(0, 400);
        if at < from || at >= to {
            return;
        }
        let pid = self.pid(h, at);
        self.bsd(
            at,
            h,
            pri(AUTHPRIV, INFO),
            "CRON",
            Some(pid),
            &format!(
                "pam_unix(cron:session): session opened for user {user}(uid={uid}) by (uid=0)"
            ),
        );
        self.bsd(at, h, pri(CRON, INFO), "CRON", Some(pid), &format!("({user}) CMD ({cmd})"));
        let end = at + self.ms_between(30, 1500);
        self.bsd(
            end,
            h,
            pri(AUTHPRIV, INFO),
            "CRON",
            Some(pid),
            &format!("pam_unix(cron:session): session closed for user {user}"),
        );
    }

    fn checkpoint(&mut self, s: i64, from: DateTime<Utc>, to: DateTime<Utc>) {
        let Some(at) = DateTime::from_timestamp(s, 0) else { return };
        let at = at + self.ms_between(0, 40);
        if at < from || at >= to {
            return;
        }
        let activity = rhythm(at);
        let lsn = self.hex(8, true);
        let redo = self.hex(8, true);
        for (h, what) in [(DB01, "checkpoint"), (DB02, "restartpoint")] {
            let pid = self.daemon(h, D_MAIN);
            let seq = (s / 300 % 100_000) as u32 * 2 + 1;
            let buffers = (self.rng.gen_range(200.0..3000.0) * (0.2 + activity)) as u32;
            self.pg(
                at,
                h,
                pid,
                seq,
                INFO,
                "user=,db=,app=,client=",
                "LOG",
                &format!("{what} starting: time"),
            );
            let write = self.rng.gen_range(268.0..270.5);
            let end = at + Duration::milliseconds((write * 1000.0) as i64 + 40);
            let (recycled, sync, files, longest) =
                (self.int(0, 3), self.int(1, 60), self.int(8, 90), self.int(1, 9));
            self.pg(
                end,
                h,
                pid,
                seq + 1,
                INFO,
                "user=,db=,app=,client=",
                "LOG",
                &format!(
                    "{what} complete: wrote {buffers} buffers ({:.1}%); 0 WAL file(s) added, 0 removed, {recycled} recycled; write={write:.3} s, sync=0.0{sync:02} s, total={:.3} s; sync files={files}, longest=0.00{longest} s, average=0.001 s; distance={} kB, estimate={} kB; lsn=3A/{lsn}, redo lsn=3A/{redo}",
                    f64::from(buffers) / 163.84,
                    write + 0.02,
                    buffers * 9,
                    buffers * 10
                ),
            );
        }
    }

    /// Local midnight: logrotate (systemd timer with a randomized delay), Apache reload, backups.
    fn daily(&mut self, s: i64, from: DateTime<Utc>, to: DateTime<Utc>) {
        let Some(mid) = DateTime::from_timestamp(s, 0) else { return };
        for &h in LINUX {
            let at = mid
                + Duration::seconds((fnv(HOSTS[h].name) % 3000) as i64)
                + self.ms_between(0, 900);
            if at < from || at >= to {
                continue;
            }
            let p = pri(DAEMON, INFO);
            self.bsd(
                at,
                h,
                p,
                "systemd",
                Some(1),
                "Starting logrotate.service - Rotate log files...",
            );
            let mut t = at + self.ms_between(300, 4000);
            if h == DVC1 || h == DVC2 {
                let main = self.daemon(h, D_MAIN);
                let tid = 139_800_000_000_000u64 + u64::from(main) * 4096;
                for (lvl, msg) in [
                    ("notice", "AH00493: SIGUSR1 received.  Doing graceful restart"),
                    (
                        "notice",
                        "AH00489: Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13 configured -- resuming normal operations",
                    ),
                    ("notice", "AH00094: Command line: '/usr/sbin/apache2'"),
                ] {
                    let mut m = String::from("[");
                    ts_ctime(&mut m, t);
                    let module = if msg.starts_with("AH00094") { "core" } else { "mpm_event" };
                    let _ = write!(m, "] [{module}:{lvl}] [pid {main}:tid {tid}] {msg}");
                    self.bsd(t, h, pri(LOCAL3, NOTICE), "apache-error", None, &m);
                    t += ms(2);
                }
            }
            self.bsd(t, h, p, "systemd", Some(1), "logrotate.service: Deactivated successfully.");
            self.bsd(t, h, p, "systemd", Some(1), "Finished logrotate.service - Rotate log files.");
        }
        // Nightly database dump on db01 at 01:30.
        self.cron(
            s + 5400 - 1,
            from,
            to,
            DB01,
            "postgres",
            114,
            "/usr/local/bin/pg_backup.sh >> /var/log/postgresql/pg_backup.log 2>&1",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Attack stories
// ---------------------------------------------------------------------------------------------

fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Ports nmap's default scan tries first (a superset of the top 100).
const SCAN_PORTS: &[u16] = &[
    7, 9, 13, 21, 22, 23, 25, 26, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139, 143,
    144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554, 587, 631, 646,
    873, 990, 993, 995, 1025, 1026, 1027, 1028, 1029, 1110, 1433, 1720, 1723, 1755, 1900, 2000,
    2001, 2049, 2121, 2717, 3000, 3128, 3306, 3389, 3986, 4899, 5000, 5009, 5051, 5060, 5101, 5190,
    5357, 5432, 5631, 5666, 5800, 5900, 6000, 6001, 6646, 7070, 8000, 8008, 8009, 8080, 8081, 8443,
    8888, 9100, 9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157, 1080, 1521, 2082,
    2083, 2181, 2375, 4443, 5601, 5985, 6379, 6443, 7001, 8086, 8161, 9000, 9090, 9200, 9300,
    11211, 15672, 27017, 50000,
];

/// What the web scanner probes: (path, status, bytes).
const NIKTO_PATHS: &[(&str, u16, u64)] = &[
    ("/", 200, 15_204),
    ("/robots.txt", 200, 214),
    ("/wp-admin/", 404, 196),
    ("/wp-login.php", 404, 196),
    ("/xmlrpc.php", 404, 196),
    ("/.env", 404, 196),
    ("/.env.bak", 404, 196),
    ("/.git/config", 403, 199),
    ("/.git/HEAD", 403, 199),
    ("/.svn/entries", 403, 199),
    ("/.htaccess", 403, 199),
    ("/.DS_Store", 404, 196),
    ("/phpmyadmin/", 404, 196),
    ("/phpMyAdmin/index.php", 404, 196),
    ("/pma/", 404, 196),
    ("/admin/", 404, 196),
    ("/administrator/", 404, 196),
    ("/admin.php", 404, 196),
    ("/config.php.bak", 404, 196),
    ("/backup.zip", 404, 196),
    ("/backup.sql", 404, 196),
    ("/db.sql", 404, 196),
    ("/dump.sql", 404, 196),
    ("/server-status", 403, 199),
    ("/server-info", 403, 199),
    ("/web.config", 404, 196),
    ("/cgi-bin/test-cgi", 404, 196),
    ("/cgi-bin/printenv", 404, 196),
    ("/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd", 400, 226),
    ("/index.php?page=../../../../etc/passwd", 404, 196),
    ("/console/", 404, 196),
    ("/manager/html", 404, 196),
    ("/actuator/env", 404, 196),
    ("/actuator/health", 404, 196),
    ("/api/swagger.json", 404, 196),
    ("/swagger-ui.html", 404, 196),
    ("/v2/api-docs", 404, 196),
    ("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", 404, 196),
    ("/solr/admin/", 404, 196),
    ("/jenkins/login", 404, 196),
    ("/.aws/credentials", 404, 196),
    ("/id_rsa", 404, 196),
    ("/.ssh/id_rsa", 404, 196),
    ("/info.php", 404, 196),
    ("/phpinfo.php", 404, 196),
    ("/test.php", 404, 196),
    ("/shell.php", 404, 196),
    ("/upload/", 404, 196),
    ("/uploads/", 403, 199),
    ("/includes/", 404, 196),
    ("/old/", 404, 196),
    ("/dvc.tar.gz", 404, 196),
    ("/WEB-INF/web.xml", 404, 196),
    ("/crossdomain.xml", 404, 196),
    ("/sitemap.xml", 404, 196),
    ("/.well-known/security.txt", 404, 196),
    ("/elmah.axd", 404, 196),
    ("/trace.axd", 404, 196),
    ("/HNAP1/", 404, 196),
    ("/boaform/admin/formLogin", 404, 196),
];

/// The vulnerable lookup's query, with the injected value spliced in.
const SQLI_QUERY: &str = "SELECT id, ma_ho_so, ten_thu_tuc, trang_thai, ngay_tiep_nhan, ngay_hen_tra FROM ho_so WHERE ma_ho_so = '";

/// sqlmap's payloads against `ma=`: (value, status, bytes, PostgreSQL error when the query fails).
const SQLI_PAYLOADS: &[(&str, u16, u64, Option<&str>)] = &[
    ("1'", 500, 612, Some("unterminated quoted string at or near \"'\"")),
    ("1\"", 200, 9_412, None),
    ("1' OR '1'='1", 200, 48_733, None),
    ("1' OR 1=1-- -", 200, 48_733, None),
    ("1' AND 1=1-- -", 200, 9_412, None),
    ("1' AND 1=2-- -", 200, 9_388, None),
    (
        "1' AND 4821=CAST((CHR(113)||CHR(120)||CHR(106)||CHR(122)||CHR(113))||(SELECT (CASE WHEN (4821=4821) THEN 1 ELSE 0 END))::text||(CHR(113)||CHR(107)||CHR(98)||CHR(112)||CHR(113)) AS NUMERIC)-- -",
        500,
        612,
        Some("invalid input syntax for type numeric: \"qxjzq1qkbpq\""),
    ),
    ("1';SELECT PG_SLEEP(5)-- -", 200, 9_388, None),
    ("1' AND 7312=(SELECT 7312 FROM PG_SLEEP(5))-- -", 200, 9_388, None),
    ("1' ORDER BY 1-- -", 200, 9_412, None),
    ("1' ORDER BY 6-- -", 200, 9_412, None),
    ("1' ORDER BY 7-- -", 500, 612, Some("ORDER BY position 7 is not in select list")),
    (
        "1' UNION ALL SELECT NULL-- -",
        500,
        612,
        Some("each UNION query must have the same number of columns"),
    ),
    (
        "1' UNION ALL SELECT NULL,NULL,NULL-- -",
        500,
        612,
        Some("each UNION query must have the same number of columns"),
    ),
    ("1' UNION ALL SELECT NULL,NULL,NULL,NULL,NULL,NULL-- -", 200, 9_520, None),
    ("1' UNION ALL SELECT NULL,NULL,version(),NULL,NULL,NULL-- -", 200, 9_677, None),
    (
        "1' UNION ALL SELECT NULL,NULL,current_user||':'||current_database(),NULL,NULL,NULL-- -",
        200,
        9_561,
        None,
    ),
    (
        "1' UNION ALL SELECT NULL,NULL,string_agg(table_name,','),NULL,NULL,NULL FROM information_schema.tables WHERE table_schema='public'-- -",
        200,
        11_904,
        None,
    ),
    (
        "1' UNION ALL SELECT NULL,NULL,string_agg(usename||':'||passwd,','),NULL,NULL,NULL FROM pg_shadow-- -",
        500,
        612,
        Some("permission denied for view pg_shadow"),
    ),
    (
        "1' UNION ALL SELECT NULL,NULL,string_agg(so_dinh_danh||':'||ho_ten||':'||so_dien_thoai,','),NULL,NULL,NULL FROM cong_dan-- -",
        200,
        1_284_551,
        None,
    ),
];

impl Gen {
    /// Story 4, one beat: the workstation resolves the C2 domain and connects to it.
    fn beacon(&mut self, at: DateTime<Utc>) {
        let ws = host_ip(BEACON_WS);
        let pid = self.daemon(DNS, D_MAIN);
        let p = pri(DAEMON, INFO);
        self.bsd(at, DNS, p, "dnsmasq", Some(pid), &format!("query[A] {BAD_DOMAIN} from {ws}"));
        let t = at + self.ms_between(0, 2);
        self.bsd(
            t,
            DNS,
            p,
            "dnsmasq",
            Some(pid),
            &format!("forwarded {BAD_DOMAIN} to {UPSTREAM_DNS}"),
        );
        let t = t + self.ms_between(30, 90);
        self.bsd(t, DNS, p, "dnsmasq", Some(pid), &format!("reply {BAD_DOMAIN} is {BAD_IP}"));
        let t = t + self.ms_between(20, 200);
        let f = Flow { src: ws, spt: self.win_port(), dst: addr(BAD_IP), dpt: 443, proto: 6 };
        let (sent, rcvd) = (self.int(1100, 1500) as u64, self.int(3800, 5200) as u64);
        self.fgt_traffic(t, f, true, 21, "HTTPS", Some("SSL"), 1, sent, rcvd);
    }

    /// Story 1: SSH password guessing against web01, a successful login, sudo to root, persistence.
    fn story_ssh(&mut self, t0: DateTime<Utc>) {
        const USERS: &[(&str, bool)] = &[
            ("root", true),
            ("admin", false),
            ("test", false),
            ("ubuntu", false),
            ("oracle", false),
            ("deploy", true),
            ("user", false),
            ("guest", false),
            ("ftpuser", false),
            ("support", false),
            ("git", false),
            ("postgres", false),
            ("pi", false),
            ("administrator", false),
            ("webmaster", false),
            ("root", true),
            ("deploy", true),
        ];
        let atk = addr(ATTACKER_SSH_IP);
        let h = WEB01;
        let (auth, authp) = (pri(AUTH, INFO), pri(AUTHPRIV, NOTICE));
        let mut t = t0;
        let mut fails = 0;
        let mut conn = 0;
        while fails < 52 {
            let (user, valid) = USERS[conn % USERS.len()];
            conn += 1;
            let pid = self.pid(h, t);
            let port = self.eph_port();
            let f = Flow { src: atk, spt: port, dst: host_ip(h), dpt: 22, proto: 6 };
            let n = self.rng.gen_range(2..=4);
            let dur = 3 * n + 2;
            self.fgt_traffic(
                t - ms(40),
                f,
                true,
                14,
                "SSH",
                Some("SSH"),
                dur,
                2_400 * u64::from(n),
                3_100 * u64::from(n),
            );
            let who = if valid { user.to_string() } else { format!("invalid user {user}") };
            if !valid {
                self.bsd(
                    t,
                    h,
                    auth,
                    "sshd",
                    Some(pid),
                    &format!("Invalid user {user} from {atk} port {port}"),
                );
            }
            for i in 0..n {
                t += self.ms_between(1500, 3500);
                if i == 0 {
                    if !valid {
                        self.bsd(
                            t,
                            h,
                            authp,
                            "sshd",
                            Some(pid),
                            "pam_unix(sshd:auth): check pass; user unknown",
                        );
                    }
                    let tail = if valid { format!("  user={user}") } else { String::new() };
                    self.bsd(
                        t,
                        h,
                        authp,
                        "sshd",
                        Some(pid),
                        &format!("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={atk}{tail}"),
                    );
                }
                self.bsd(
                    t,
                    h,
                    auth,
                    "sshd",
                    Some(pid),
                    &format!("Failed password for {who} from {atk} port {port} ssh2"),
                );
                fails += 1;
            }
            t += self.ms_between(200, 900);
            let closer = if valid { format!("authenticating user {user}") } else { who.clone() };
            self.bsd(
                t,
                h,
                auth,
                "sshd",
                Some(pid),
                &format!("Connection closed by {closer} {atk} port {port} [preauth]"),
            );
            if n > 1 {
                let tail = if valid { format!("  user={user}") } else { String::new() };
                self.bsd(
                    t,
                    h,
                    authp,
                    "sshd",
                    Some(pid),
                    &format!("PAM {} more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost={atk}{tail}", n - 1),
                );
            }
            t += self.ms_between(300, 2500);
        }
        // The guess that works: a CI deploy account with a weak password (and NOPASSWD sudo).
        t += Duration::seconds(self.int(20, 40));
        let (user, uid) = ("deploy", 1006);
        let pid = self.pid(h, t);
        let port = self.eph_port();
        let f = Flow { src: atk, spt: port, dst: host_ip(h), dpt: 22, proto: 6 };
        self.fgt_traffic(t - ms(40), f, true, 14, "SSH", Some("SSH"), 612, 184_220, 96_410);
        let logind = self.daemon(h, D_LOGIND);
        let sess = self.session(h);
        self.bsd(
            t,
            h,
            auth,
            "sshd",
            Some(pid),
            &format!("Accepted password for {user} from {atk} port {port} ssh2"),
        );
        t += self.ms_between(5, 30);
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sshd",
            Some(pid),
            &format!(
                "pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"
            ),
        );
        t += self.ms_between(5, 30);
        self.bsd(
            t,
            h,
            auth,
            "systemd-logind",
            Some(logind),
            &format!("New session {sess} of user {user}."),
        );
        t += Duration::seconds(self.int(35, 60));
        let spid = self.pid(h, t);
        self.bsd(
            t,
            h,
            authp,
            "sudo",
            None,
            &format!("{user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/bin/bash"),
        );
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sudo",
            Some(spid),
            &format!(
                "pam_unix(sudo:session): session opened for user root(uid=0) by {user}(uid={uid})"
            ),
        );
        // Persistence: a new sudoer and a root crontab.
        t += Duration::seconds(self.int(60, 120));
        let upid = self.pid(h, t);
        self.bsd(t, h, auth, "useradd", Some(upid), "new group: name=sysupdate, GID=1007");
        self.bsd(
            t,
            h,
            auth,
            "useradd",
            Some(upid),
            "new user: name=sysupdate, UID=1007, GID=1007, home=/home/sysupdate, shell=/bin/bash, from=/dev/pts/0",
        );
        t += self.ms_between(3000, 9000);
        let mpid = self.pid(h, t);
        self.bsd(t, h, auth, "usermod", Some(mpid), "add 'sysupdate' to group 'sudo'");
        self.bsd(t, h, auth, "usermod", Some(mpid), "add 'sysupdate' to shadow group 'sudo'");
        t += self.ms_between(4000, 12_000);
        let ppid = self.pid(h, t);
        self.bsd(
            t,
            h,
            authp,
            "passwd",
            Some(ppid),
            "pam_unix(passwd:chauthtok): password changed for sysupdate",
        );
        t += Duration::seconds(self.int(30, 60));
        let cpid = self.pid(h, t);
        for m in ["(root) BEGIN EDIT (root)", "(root) REPLACE (root)", "(root) END EDIT (root)"] {
            self.bsd(t, h, pri(CRON, INFO), "crontab", Some(cpid), m);
            t += self.ms_between(2000, 20_000);
        }
        t += Duration::seconds(self.int(200, 420));
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sudo",
            Some(spid),
            "pam_unix(sudo:session): session closed for user root",
        );
        t += self.ms_between(500, 3000);
        self.bsd(
            t,
            h,
            auth,
            "sshd",
            Some(pid),
            &format!("Received disconnect from {atk} port {port}:11: disconnected by user"),
        );
        self.bsd(
            t,
            h,
            auth,
            "sshd",
            Some(pid),
            &format!("Disconnected from user {user} {atk} port {port}"),
        );
        self.bsd(
            t,
            h,
            pri(AUTHPRIV, INFO),
            "sshd",
            Some(pid),
            &format!("pam_unix(sshd:session): session closed for user {user}"),
        );
        self.bsd(
            t,
            h,
            auth,
            "systemd-logind",
            Some(logind),
            &format!("Session {sess} logged out. Waiting for processes to exit."),
        );
        self.bsd(
            t + ms(40),
            h,
            auth,
            "systemd-logind",
            Some(logind),
            &format!("Removed session {sess}."),
        );
    }

    /// Story 2: a Nikto scan of the public-service portal, then sqlmap against its case lookup.
    fn story_webscan(&mut self, t0: DateTime<Utc>) {
        let ip = addr(ATTACKER_WEB_IP);
        let h = DVC1;
        let mut t = t0;
        // A handful of TLS sessions through the border firewall to the WAF's virtual server.
        for i in 0..6 {
            let f = Flow { src: ip, spt: self.eph_port(), dst: host_ip(WAF), dpt: 443, proto: 6 };
            self.fgt_traffic(
                t0 + Duration::seconds(i * 25) - ms(30),
                f,
                true,
                13,
                "HTTPS",
                Some("HTTPS.BROWSER"),
                25,
                41_000,
                36_000,
            );
        }
        let mut test = self.int(1, 400) as u32;
        for (i, &(path, status, bytes)) in NIKTO_PATHS.iter().enumerate() {
            t += self.ms_between(120, 1800);
            test += self.rng.gen_range(1..60);
            let ua = format!("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{test:06})");
            let r = Req {
                ip,
                method: "GET",
                path,
                proto: "HTTP/1.1",
                status,
                bytes,
                referrer: "-",
                ua: &ua,
            };
            self.apache(t, h, &r);
            let port = self.eph_port();
            match status {
                403 => self.apache_error(
                    t,
                    h,
                    "authz_core",
                    "error",
                    Some((ip, port)),
                    &format!(
                        "AH01630: client denied by server configuration: /var/www/dvc/public{}",
                        path.trim_end_matches('/')
                    ),
                ),
                400 => self.apache_error(
                    t,
                    h,
                    "core",
                    "error",
                    Some((ip, port)),
                    &format!("AH10244: invalid URI path ({path})"),
                ),
                _ => {}
            }
            let hit = match path {
                p if i == 2 => Some((
                    "Known Bots",
                    "Vulnerability Scanner",
                    "100000021",
                    6,
                    format!("Vulnerability scanner detected: Nikto ({p})"),
                )),
                p if p.contains("etc/passwd") => Some((
                    "Generic Attacks",
                    "Directory Traversal",
                    "050050003",
                    8,
                    "Directory traversal attempt".to_string(),
                )),
                p if p.contains(".env")
                    || p.contains(".git")
                    || p.contains(".aws")
                    || p.contains("id_rsa") =>
                {
                    Some((
                        "Information Disclosure",
                        "Sensitive File Access",
                        "060030012",
                        6,
                        format!("Access to sensitive file {p}"),
                    ))
                }
                p if p.contains("eval-stdin") => Some((
                    "Known Exploits",
                    "Remote Exploits",
                    "080200011",
                    9,
                    "PHPUnit eval-stdin RCE attempt".to_string(),
                )),
                _ => None,
            };
            if let Some((main, sub, sig, sev, msg)) = hit {
                self.fwb(t, &r, h, DVC_HOST, main, sub, sig, sev, false, &msg);
            }
        }
        // sqlmap against the case-status lookup a few minutes later.
        t += Duration::seconds(self.int(300, 420));
        let ua = "sqlmap/1.8.2#stable (https://sqlmap.org)";
        let pg_pid = self.pid(DB01, t - Duration::seconds(600));
        let mut pg_seq = self.rng.gen_range(40..400);
        let pre = format!("user=motcua_app,db=motcua,app=motcua-api,client={}", host_ip(h));
        for &(payload, status, bytes, err) in SQLI_PAYLOADS {
            t += self.ms_between(700, 4000);
            if payload.contains("SLEEP") {
                t += ms(5000);
            }
            let path = format!("/dich-vu-cong/tra-cuu-ho-so?ma={}", urlencode(payload));
            let r = Req {
                ip,
                method: "GET",
                path: &path,
                proto: "HTTP/1.1",
                status,
                bytes,
                referrer: "-",
                ua,
            };
            self.apache(t, h, &r);
            let (sub, sig) = if payload.contains("UNION") {
                ("SQL Injection (Extended)", "030000136")
            } else if payload.contains("SLEEP") {
                ("SQL Injection (Blind)", "030000204")
            } else {
                ("SQL Injection", "030000001")
            };
            self.fwb(
                t - ms(30),
                &r,
                h,
                DVC_HOST,
                "SQL Injection",
                sub,
                sig,
                9,
                false,
                &format!("{sub} in parameter ma"),
            );
            if let Some(e) = err {
                let at = t - self.ms_between(5, 40);
                let char_at = SQLI_QUERY.len() + 2;
                self.pg(
                    at,
                    DB01,
                    pg_pid,
                    pg_seq,
                    ERR,
                    &pre,
                    "ERROR",
                    &format!("{e} at character {char_at}"),
                );
                self.pg(
                    at,
                    DB01,
                    pg_pid,
                    pg_seq + 1,
                    ERR,
                    &pre,
                    "STATEMENT",
                    &format!("{SQLI_QUERY}{payload}'"),
                );
                pg_seq += 2;
            }
        }
    }

    /// Story 3: a SYN scan of the DMZ from one address, denied by fw-border (open ports pass).
    fn story_portscan(&mut self, t0: DateTime<Utc>) {
        let src = addr(SCANNER_IP);
        let targets = [WEB01, WEB02, WAF, DVC1, MAIL];
        let open = |h: usize, p: u16| match h {
            WEB01 => matches!(p, 22 | 80 | 443),
            WEB02 | WAF => matches!(p, 80 | 443),
            MAIL => matches!(p, 25 | 465 | 587 | 993),
            _ => false,
        };
        let f0 = Flow { src, spt: 61_874, dst: host_ip(WEB01), dpt: 80, proto: 6 };
        self.fgt_threat(
            t0 + ms(2500),
            f0,
            true,
            "tcp_port_scan",
            100_663_396,
            "critical",
            "anomaly: tcp_port_scan, 1001 > threshold 1000",
        );
        let mut ports = SCAN_PORTS.to_vec();
        ports.shuffle(&mut self.rng);
        let n = ports.len() as i64;
        let span_ms = 45_000;
        for (i, &p) in ports.iter().enumerate() {
            // Each port goes to one or two hosts; together they sweep the whole list.
            let a = targets[i % targets.len()];
            let mut hs = vec![a];
            if self.chance(0.35) {
                hs.push(targets[(i + 2) % targets.len()]);
            }
            for h in hs {
                let at = t0 + ms(i as i64 * span_ms / n) + self.ms_between(0, 300);
                let f = Flow { src, spt: 61_874, dst: host_ip(h), dpt: p, proto: 6 };
                if open(h, p) {
                    let (policy, service) = match p {
                        22 => (14, "SSH"),
                        80 => (12, "HTTP"),
                        443 => (12, "HTTPS"),
                        993 => (15, "IMAPS"),
                        465 => (15, "SMTPS"),
                        _ => (15, "SMTP"),
                    };
                    self.fgt_traffic(at, f, true, policy, service, None, 0, 44, 44);
                } else {
                    let service = format!("tcp/{p}");
                    self.fgt_traffic(at, f, false, 0, &service, None, 0, 0, 0);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Backfill
// ---------------------------------------------------------------------------------------------

fn frac(span: Duration, f: f64) -> Duration {
    Duration::milliseconds((span.num_milliseconds() as f64 * f) as i64)
}

/// Where the stories sit in a backfill, as fractions of the span.
const BEACON_FROM: f64 = 0.30;
const PORTSCAN_AT: f64 = 0.45;
const SSH_AT: f64 = 0.58;
const BC01_SILENT_FROM: f64 = 0.70;
const WEBSCAN_AT: f64 = 0.80;

/// Deterministic (seeded) backfill of `span` ending at `end`, sorted by time.
///
/// Normal traffic follows the province's daily rhythm; the attack stories sit at fixed
/// fractions of the span (beaconing from 30 % to the end, port scan at 45 %, SSH guessing at
/// 58 %, bc01 silent from 70 %, web scan and SQL injection at 80 %). Every record is in
/// `[end - span, end]`.
pub fn backfill(end: DateTime<Utc>, span: chrono::Duration, seed: u64) -> Vec<DemoRecord> {
    let span = span.max(Duration::zero());
    let start = end - span;
    let mut g = Gen::new(seed);
    g.bc01_cut = start + frac(span, BC01_SILENT_FROM);
    g.out.reserve((span.num_seconds().max(0) as usize).saturating_mul(13) / 10 + 1024);
    g.normal(start, end);
    g.scheduled(start, end);
    let mut t = start + frac(span, BEACON_FROM);
    while t < end {
        g.beacon(t);
        t += Duration::seconds(60) + g.ms_between(-2000, 2000);
    }
    g.story_portscan(start + frac(span, PORTSCAN_AT));
    g.story_ssh(start + frac(span, SSH_AT));
    g.story_webscan(start + frac(span, WEBSCAN_AT));
    let mut out = std::mem::take(&mut g.out);
    out.retain(|r| r.at >= start && r.at <= end);
    out.sort_by_key(|r| r.at);
    for r in &mut out {
        g.finalize(r);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Live mode
// ---------------------------------------------------------------------------------------------

/// Seconds of generated time per live batch.
const WINDOW_SECS: i64 = 10;
/// Minimum gap between two replayed stories in live mode.
const STORY_EVERY_SECS: i64 = 240;

/// A record waiting in the live generator's time-ordered buffer.
struct Pending {
    rec: DemoRecord,
    seq: u64,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so the max-heap pops the earliest record first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.rec.at, other.seq).cmp(&(self.rec.at, self.seq))
    }
}

/// Live mode: endless time-ordered generator of normal traffic at roughly `eps` events/s that
/// replays an attack story every few minutes.
///
/// Generated time starts at `start` and advances by about `1/eps` per record; the caller paces
/// delivery (for instance by sleeping until each record's `at`). Stories rotate (port scan,
/// SSH guessing, web scan + SQL injection) every 4 minutes, less often at very low rates so they
/// stay under a quarter of the volume; the beaconing workstation keeps calling home every ~60 s;
/// bc01 stays silent, as it went quiet during the backfill.
pub struct LiveDemo {
    g: Gen,
    eps: f64,
    /// Start of the next window to generate; everything before it is final.
    cursor: DateTime<Utc>,
    pending: BinaryHeap<Pending>,
    seq: u64,
    next_story: DateTime<Utc>,
    story: usize,
    next_beacon: DateTime<Utc>,
    /// Lines of stories and clock jobs not yet offset against normal traffic.
    debt: f64,
    /// Cumulative weights of the normal sources (lines per hour at the busiest hour).
    weights: Vec<(Src, f64)>,
}

impl std::fmt::Debug for LiveDemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDemo")
            .field("eps", &self.eps)
            .field("cursor", &self.cursor)
            .field("pending", &self.pending.len())
            .field("story", &self.story)
            .finish()
    }
}

impl LiveDemo {
    /// A live generator starting at `start`, producing about `eps` records per second of
    /// generated time, seeded for reproducibility.
    pub fn new(start: DateTime<Utc>, eps: f64, seed: u64) -> Self {
        let eps = if eps.is_finite() { eps.clamp(0.05, 1_000_000.0) } else { 5.0 };
        let mut g = Gen::new(seed ^ 0x5e4e_11fe_0000_0001);
        g.bc01_cut = start;
        let mut acc = 0.0;
        let weights = SOURCES
            .iter()
            .map(|&(src, per_hour, _, lines)| {
                acc += per_hour * lines;
                (src, acc)
            })
            .collect();
        let next_beacon = start + g.ms_between(1000, 60_000);
        LiveDemo {
            g,
            eps,
            cursor: start,
            pending: BinaryHeap::new(),
            seq: 0,
            next_story: start + Duration::seconds(60),
            story: 0,
            next_beacon,
            debt: 0.0,
            weights,
        }
    }

    fn pick_source(&mut self) -> Src {
        let total = self.weights.last().map_or(1.0, |w| w.1);
        let x = self.g.rng.gen_range(0.0..total);
        self.weights.iter().find(|w| x < w.1).map_or(Src::Portal, |w| w.0)
    }

    /// Generate the next window of records into the pending buffer.
    fn fill(&mut self) {
        let from = self.cursor;
        let to = from + Duration::seconds(WINDOW_SECS);
        self.g.scheduled(from, to);
        while self.next_beacon < to {
            let t = self.next_beacon;
            self.g.beacon(t);
            self.next_beacon = t + Duration::seconds(60) + self.g.ms_between(-2000, 2000);
        }
        while self.next_story < to {
            let t = self.next_story;
            let before = self.g.out.len();
            match self.story % 3 {
                0 => self.g.story_portscan(t),
                1 => self.g.story_ssh(t),
                _ => self.g.story_webscan(t),
            }
            self.story += 1;
            let lines = (self.g.out.len() - before) as f64;
            let gap = (lines / (0.25 * self.eps)).max(STORY_EVERY_SECS as f64);
            self.next_story = t + Duration::milliseconds((gap * 1000.0) as i64);
        }
        // Normal traffic fills what the clock jobs and stories left of this window's budget;
        // a story's burst is paid back over the following windows.
        self.debt += self.g.out.len() as f64;
        let budget = self.eps * WINDOW_SECS as f64;
        let pay = self.debt.min(budget * 0.8);
        self.debt -= pay;
        let goal = budget - pay;
        let goal = goal.floor() as usize + usize::from(self.g.chance(goal.fract()));
        let base = self.g.out.len();
        let window_us = WINDOW_SECS * 1_000_000;
        while self.g.out.len() - base < goal {
            let src = self.pick_source();
            let at = from + Duration::microseconds(self.g.rng.gen_range(0..window_us));
            self.g.occur(src, at);
        }
        self.debt += (self.g.out.len() - base - goal) as f64;
        for rec in self.g.out.drain(..) {
            self.seq += 1;
            self.pending.push(Pending { rec, seq: self.seq });
        }
        self.cursor = to;
    }
}

impl Iterator for LiveDemo {
    type Item = DemoRecord;

    fn next(&mut self) -> Option<DemoRecord> {
        loop {
            // Occurrences may log a few milliseconds before their own start (a firewall line
            // ahead of the session it lets through), so only a margin behind the generated
            // window is final.
            let ready = self.cursor - Duration::seconds(2);
            if self.pending.peek().is_some_and(|p| p.rec.at < ready)
                && let Some(p) = self.pending.pop()
            {
                let mut rec = p.rec;
                self.g.finalize(&mut rec);
                return Some(rec);
            }
            self.fill();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::OnceLock;

    use super::*;

    fn end() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-26T16:30:00+07:00").unwrap().with_timezone(&Utc)
    }

    fn span() -> Duration {
        Duration::hours(24)
    }

    /// One shared 24 h backfill (seed 7, as `sen serve --demo` uses).
    fn day() -> &'static [DemoRecord] {
        static DAY: OnceLock<Vec<DemoRecord>> = OnceLock::new();
        DAY.get_or_init(|| backfill(end(), span(), 7))
    }

    /// The value of a CEF extension key (up to the next ` key=`), unescaped enough for tests.
    fn cef_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
        let pat = format!(" {key}=");
        let i = line.find(&pat)? + pat.len();
        let rest = &line[i..];
        let mut endp = rest.len();
        let b = rest.as_bytes();
        for j in 0..b.len() {
            if b[j] == b' ' {
                let tail = &rest[j + 1..];
                if let Some(eq) = tail.find('=')
                    && tail[..eq].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    && eq > 0
                {
                    endp = j;
                    break;
                }
            }
        }
        Some(&rest[..endp])
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = backfill(end(), Duration::hours(3), 42);
        let b = backfill(end(), Duration::hours(3), 42);
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let c = backfill(end(), Duration::hours(3), 43);
        assert_ne!(a, c);
        let l1: Vec<_> = LiveDemo::new(end(), 30.0, 9).take(3000).collect();
        let l2: Vec<_> = LiveDemo::new(end(), 30.0, 9).take(3000).collect();
        assert_eq!(l1, l2);
    }

    #[test]
    fn sorted_within_span_and_volume() {
        let recs = day();
        let start = end() - span();
        assert!(recs.windows(2).all(|w| w[0].at <= w[1].at), "not sorted");
        assert!(recs.iter().all(|r| r.at >= start && r.at <= end()));
        assert!((50_000..=150_000).contains(&recs.len()), "volume {}", recs.len());
        // Daily rhythm: the busiest hour carries several times the quietest.
        let mut per_hour = BTreeMap::new();
        for r in recs {
            *per_hour.entry(local(r.at).hour()).or_insert(0usize) += 1;
        }
        let max = per_hour.values().max().copied().unwrap_or(0);
        let min = per_hour.values().min().copied().unwrap_or(0);
        assert!(max > 4 * min, "hourly volumes {per_hour:?}");
        assert!(per_hour[&10] > per_hour[&3]);
        // Every sender of the inventory that should talk does.
        let hosts: BTreeSet<&str> = recs.iter().map(|r| r.host.as_str()).collect();
        for h in ["web01", "web02", "dvc-app01", "dvc-app02", "mail01", "waf01", "qlvb01", "bc01"] {
            assert!(hosts.contains(h), "{h} silent");
        }
        for h in ["lgsp01", "lgsp02", "db01", "db02", "dns01", "fw-border", "fw-core", "sw-core"] {
            assert!(hosts.contains(h), "{h} silent");
        }
    }

    #[test]
    fn peers_and_orgs_match_the_inventory() {
        let inv: BTreeMap<String, Asset> =
            assets().into_iter().map(|a| (a.host.clone(), a)).collect();
        for r in day() {
            let a = &inv[&r.host];
            assert_eq!(r.peer, a.ip, "{}", r.host);
            assert_eq!(r.organization.as_deref(), Some(a.organization.as_str()));
        }
    }

    #[test]
    fn ssh_guessing_story() {
        let recs = day();
        let fails: Vec<&DemoRecord> = recs
            .iter()
            .filter(|r| {
                r.host == "web01" && r.line.contains(&format!("from {ATTACKER_SSH_IP} port"))
            })
            .filter(|r| r.line.contains("Failed password for "))
            .collect();
        assert!(fails.len() >= 40, "{} failures", fails.len());
        let first = fails[0].at;
        let last = fails[fails.len() - 1].at;
        assert!(last - first <= Duration::minutes(10), "guessing spread over {}", last - first);
        let invalid =
            fails.iter().filter(|r| r.line.contains("Failed password for invalid user ")).count();
        assert!(invalid >= 10 && invalid < fails.len());
        let users: BTreeSet<&str> = fails
            .iter()
            .filter_map(|r| r.line.split("Failed password for ").nth(1))
            .map(|s| s.trim_start_matches("invalid user ").split(' ').next().unwrap_or(""))
            .collect();
        assert!(users.len() >= 5, "{users:?}");
        assert!(
            recs.iter().any(|r| r
                .line
                .contains(&format!("Invalid user oracle from {ATTACKER_SSH_IP} port")))
        );
        let ok: Vec<&DemoRecord> = recs
            .iter()
            .filter(|r| {
                r.line
                    .contains(&format!("Accepted password for deploy from {ATTACKER_SSH_IP} port"))
            })
            .collect();
        assert_eq!(ok.len(), 1);
        assert!(ok[0].at > last && ok[0].at - last < Duration::minutes(2));
        let sudo = recs
            .iter()
            .find(|r| {
                r.line.contains(
                    "sudo: deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash",
                )
            })
            .expect("sudo to root");
        assert!(sudo.at > ok[0].at && sudo.host == "web01");
        let expected = end() - span() + frac(span(), SSH_AT);
        assert!((first - expected).num_seconds().abs() < 30);
        // The border firewall saw the connections.
        let fw = recs
            .iter()
            .filter(|r| {
                r.host == "fw-border" && r.line.contains(&format!("src={ATTACKER_SSH_IP} "))
            })
            .count();
        assert!(fw >= 10);
    }

    #[test]
    fn web_scan_and_sqli_story() {
        let recs = day();
        let access: Vec<&DemoRecord> = recs
            .iter()
            .filter(|r| {
                r.host == "dvc-app01"
                    && r.line.contains(&format!("apache-access: {ATTACKER_WEB_IP} - - ["))
            })
            .collect();
        let not_found = access.iter().filter(|r| r.line.contains("\" 404 ")).count();
        assert!(not_found >= 40, "{not_found} 404s");
        for p in ["/wp-admin/", "/.env", "/phpmyadmin/", "/.git/config"] {
            assert!(
                access.iter().any(|r| r.line.contains(&format!("\"GET {p} HTTP/1.1\""))),
                "{p}"
            );
        }
        assert!(access.iter().any(|r| r.line.contains("(Nikto/2.5.0)")));
        let sqli: Vec<&&DemoRecord> = access
            .iter()
            .filter(|r| r.line.contains("sqlmap/"))
            .filter(|r| r.line.contains("%27%20OR%20") || r.line.contains("UNION%20ALL%20SELECT"))
            .collect();
        assert!(sqli.len() >= 8, "{} SQLi lines", sqli.len());
        assert!(access.iter().any(|r| r.line.contains("ma=1%27%20OR%201%3D1--%20-")));
        // No raw spaces or quotes inside the logged request target.
        for r in &sqli {
            let req = r.line.split('"').nth(1).unwrap();
            assert_eq!(req.split(' ').count(), 3, "{req}");
        }
        let waf: Vec<&DemoRecord> = recs
            .iter()
            .filter(|r| r.host == "waf01" && r.line.contains(&format!(" src={ATTACKER_WEB_IP} ")))
            .collect();
        assert!(waf.iter().filter(|r| r.line.contains("|SQL Injection|")).count() >= 10);
        assert!(
            waf.iter().all(|r| cef_field(&r.line, "request").is_some_and(|v| v.starts_with('/')))
        );
        let pg = recs.iter().filter(|r| r.host == "db01" && r.line.contains("ERROR:  ")).count();
        assert!(pg >= 3);
    }

    #[test]
    fn port_scan_story() {
        let recs = day();
        let probes: Vec<&DemoRecord> = recs
            .iter()
            .filter(|r| r.host == "fw-border" && r.line.contains(&format!(" src={SCANNER_IP} ")))
            .filter(|r| r.line.contains(" act=deny "))
            .collect();
        let ports: BTreeSet<&str> =
            probes.iter().filter_map(|r| cef_field(&r.line, "dpt")).collect();
        let dsts: BTreeSet<&str> =
            probes.iter().filter_map(|r| cef_field(&r.line, "dst")).collect();
        assert!(ports.len() >= 100, "{} ports", ports.len());
        assert!(dsts.len() >= 4, "{dsts:?}");
        assert!(dsts.iter().all(|d| d.starts_with("10.10.1.")));
        let dur = probes[probes.len() - 1].at - probes[0].at;
        assert!(dur <= Duration::minutes(1), "{dur}");
        assert!(recs.iter().any(
            |r| r.line.contains("anomaly:anomaly tcp_port_scan") && r.line.contains(SCANNER_IP)
        ));
    }

    #[test]
    fn beaconing_story() {
        let recs = day();
        let ws = "10.10.2.103";
        let queries: Vec<DateTime<Utc>> = recs
            .iter()
            .filter(|r| {
                r.host == "dns01" && r.line.ends_with(&format!("query[A] {BAD_DOMAIN} from {ws}"))
            })
            .map(|r| r.at)
            .collect();
        let expected = (span().num_seconds() as f64 * (1.0 - BEACON_FROM) / 60.0) as usize;
        assert!(
            queries.len() + 5 >= expected && queries.len() <= expected + 5,
            "{} beacons",
            queries.len()
        );
        for w in queries.windows(2) {
            let gap = (w[1] - w[0]).num_milliseconds();
            assert!((57_000..=63_000).contains(&gap), "gap {gap} ms");
        }
        let replies = recs
            .iter()
            .filter(|r| r.line.ends_with(&format!("reply {BAD_DOMAIN} is {BAD_IP}")))
            .count();
        assert_eq!(replies, queries.len());
        let flows = recs
            .iter()
            .filter(|r| r.host == "fw-border" && cef_field(&r.line, "dst") == Some(BAD_IP))
            .filter(|r| cef_field(&r.line, "src") == Some(ws) && r.line.contains(" act=accept "))
            .count();
        assert_eq!(flows, queries.len());
        // Only the one workstation talks to it.
        assert!(
            recs.iter()
                .filter(|r| r.line.contains(BAD_DOMAIN))
                .all(|r| !r.line.contains(" from ") || r.line.contains(ws))
        );
    }

    #[test]
    fn bc01_goes_silent() {
        let recs = day();
        let cut = end() - span() + frac(span(), BC01_SILENT_FROM);
        let bc: Vec<&DemoRecord> = recs.iter().filter(|r| r.host == "bc01").collect();
        assert!(bc.len() >= 100, "{}", bc.len());
        assert!(bc.iter().all(|r| r.at < cut));
        assert!(bc[bc.len() - 1].at > cut - Duration::minutes(15));
        // The host itself is still alive: db02 keeps seeing its connections.
        assert!(
            recs.iter()
                .any(|r| r.host == "db02" && r.at > cut && r.line.contains("client=10.10.2.21"))
        );
    }

    /// Check one line's syslog framing; returns the message part.
    fn check_line(r: &DemoRecord) -> &str {
        let l = &r.line;
        assert!(l.starts_with('<'), "{l}");
        let close = l.find('>').unwrap();
        let pri: u8 = l[1..close].parse().unwrap_or_else(|_| panic!("PRI in {l}"));
        assert!(pri < 192);
        let rest = &l[close + 1..];
        if let Some(v) = rest.strip_prefix("1 ") {
            let f: Vec<&str> = v.splitn(6, ' ').collect();
            assert_eq!(f.len(), 6, "{l}");
            let ts =
                DateTime::parse_from_rfc3339(f[0]).unwrap_or_else(|_| panic!("5424 time in {l}"));
            assert_eq!(ts.offset().local_minus_utc(), TZ_SECS as i32);
            assert_eq!(ts.with_timezone(&Utc).timestamp_millis(), r.at.timestamp_millis(), "{l}");
            assert_eq!(f[1], r.host);
            assert!(!f[2].is_empty() && f[3].parse::<u32>().is_ok() && !f[4].is_empty(), "{l}");
            let sdmsg = f[5];
            assert!(sdmsg.starts_with("- ") || sdmsg.starts_with('['), "{l}");
            if let Some(sd) = sdmsg.strip_prefix('[') {
                let end = sdmsg.find("] ").unwrap_or_else(|| panic!("SD in {l}"));
                let id = sd.split(' ').next().unwrap();
                assert!(id.contains('@'), "{l}");
                return &sdmsg[end + 2..];
            }
            return &sdmsg[2..];
        }
        // RFC 3164.
        let mut ts = String::new();
        ts_bsd(&mut ts, r.at);
        assert_eq!(&rest[..15], ts, "{l}");
        assert!(MONTHS.contains(&&rest[..3]));
        let after = &rest[16..];
        let host_end = after.find(' ').unwrap();
        assert_eq!(&after[..host_end], r.host);
        let msg = &after[host_end + 1..];
        if msg.starts_with("CEF:") {
            return msg;
        }
        let colon = msg.find(": ").unwrap_or_else(|| panic!("tag in {l}"));
        let tag = &msg[..colon];
        let name = tag.split('[').next().unwrap();
        assert!(
            !name.is_empty()
                && name.bytes().all(|c| c.is_ascii_alphanumeric() || b"/-_.".contains(&c)),
            "{l}"
        );
        if let Some(p) = tag.split('[').nth(1) {
            assert!(p.strip_suffix(']').is_some_and(|p| p.parse::<u32>().is_ok()), "{l}");
        }
        assert!(!msg.contains(SEQ_MARK));
        &msg[colon + 2..]
    }

    fn check_cef(msg: &str) {
        // Split the header on unescaped pipes.
        let mut parts = Vec::new();
        let (mut cur, mut esc) = (String::new(), false);
        let mut ext_at = msg.len();
        for (i, c) in msg.char_indices() {
            if esc {
                cur.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '|' {
                parts.push(std::mem::take(&mut cur));
                if parts.len() == 7 {
                    ext_at = i + 1;
                    break;
                }
            } else {
                cur.push(c);
            }
        }
        // The extension keeps its escapes.
        parts.push(msg[ext_at..].to_string());
        assert_eq!(parts.len(), 8, "{msg}");
        assert_eq!(parts[0], "CEF:0");
        assert!(parts[1..6].iter().all(|p| !p.is_empty()), "{msg}");
        assert!(parts[6].parse::<u8>().is_ok_and(|s| s <= 10), "{msg}");
        let ext = &parts[7];
        assert!(ext.contains("src=") && ext.contains("dst="), "{msg}");
        // Every unescaped '=' belongs to a key.
        let b = ext.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            if c == b'=' && (i == 0 || b[i - 1] != b'\\') {
                let key_start = ext[..i].rfind(' ').map_or(0, |s| s + 1);
                let key = &ext[key_start..i];
                assert!(
                    !key.is_empty() && key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'),
                    "key {key:?} in {msg}"
                );
            }
        }
    }

    #[test]
    fn every_line_is_well_formed() {
        let mut kinds = BTreeMap::new();
        for r in day() {
            let msg = check_line(r);
            let kind = if msg.starts_with("CEF:") {
                check_cef(msg);
                "cef"
            } else if r.line[r.line.find('>').unwrap() + 1..].starts_with("1 ") {
                "rfc5424"
            } else {
                "rfc3164"
            };
            *kinds.entry(kind).or_insert(0) += 1;
            assert!(!r.line.contains('\n'));
        }
        assert!(kinds.len() == 3, "{kinds:?}");
        // Priorities: sshd on auth, pam on authpriv, nginx on local7, postfix on mail.
        for r in day().iter().take(40_000) {
            let l = &r.line;
            let pri: u8 = l[1..l.find('>').unwrap()].parse().unwrap();
            if l.contains(" sshd[") && l.contains("Failed password") {
                assert_eq!(pri, 38);
            }
            if l.contains(": pam_unix(") {
                assert_eq!(pri / 8, 10, "{l}");
            }
            if l.contains(" nginx: ") {
                assert_eq!(pri, 190);
            }
            if l.contains(" postfix/") {
                assert_eq!(pri / 8, 2);
            }
            if l.contains(" kernel: ") {
                assert_eq!(pri / 8, 0);
            }
        }
    }

    #[test]
    fn pids_are_consistent_per_process() {
        // An sshd session keeps its pid from Accepted to session closed.
        let recs = day();
        let mut open = BTreeMap::new();
        for r in recs.iter().filter(|r| r.line.contains(" sshd[")) {
            let pid = r.line.split(" sshd[").nth(1).unwrap().split(']').next().unwrap().to_string();
            if r.line.contains(": Accepted ") {
                open.insert((r.host.clone(), pid.clone()), 1);
            } else if r.line.contains("session closed for user") {
                assert!(open.remove(&(r.host.clone(), pid)).is_some(), "{}", r.line);
            }
        }
        let daemons: BTreeSet<&str> = recs
            .iter()
            .filter(|r| r.host == "dns01" && r.line.contains("dnsmasq["))
            .map(|r| r.line.split("dnsmasq[").nth(1).unwrap().split(']').next().unwrap())
            .collect();
        assert_eq!(daemons.len(), 1);
    }

    #[test]
    fn sw_core_sequence_numbers_follow_time() {
        let seqs: Vec<u32> = day()
            .iter()
            .filter(|r| r.host == "sw-core")
            .map(|r| r.line.split(' ').nth(4).unwrap().trim_end_matches(':').parse().unwrap())
            .collect();
        assert!(seqs.len() >= 10);
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn assets_match_the_design() {
        let a = assets();
        assert_eq!(ORGANIZATIONS.len(), 13);
        let orgs: BTreeSet<&str> = a.iter().map(|x| x.organization.as_str()).collect();
        let known: BTreeSet<&str> = ORGANIZATIONS.iter().map(|o| o.id).collect();
        assert_eq!(
            orgs, known,
            "every tenant owns at least one asset, and no other tenant appears"
        );
        let hosts: BTreeSet<&str> = a.iter().map(|x| x.host.as_str()).collect();
        let ips: BTreeSet<IpAddr> = a.iter().map(|x| x.ip).collect();
        assert_eq!(hosts.len(), a.len());
        assert_eq!(ips.len(), a.len());
        // From demo-province.yaml: system → (org, level, zone, hosts).
        let design: &[(&str, &str, u8, &str, &[&str])] = &[
            ("portal", "stttt", 3, "dmz", &["web01", "web02"]),
            ("dvc", "vpubnd", 3, "dmz", &["dvc-app01", "dvc-app02"]),
            ("qlvb", "vpubnd", 2, "internal", &["qlvb01"]),
            ("baocao", "skhdt", 2, "internal", &["bc01"]),
            ("lgsp", "stttt", 3, "internal", &["lgsp01", "lgsp02"]),
            ("csdl", "stttt", 3, "db", &["db01", "db02"]),
            ("mail", "stttt", 2, "dmz", &["mail01"]),
        ];
        assert_eq!(SYSTEMS.len(), design.len());
        for &(id, org, level, zone, hs) in design {
            let members: Vec<&Asset> =
                a.iter().filter(|x| x.system.as_deref() == Some(id)).collect();
            let names: Vec<&str> = members.iter().map(|x| x.host.as_str()).collect();
            assert_eq!(names, hs, "{id}");
            for m in members {
                assert_eq!(m.organization, org);
                assert_eq!(m.level, Some(level));
                assert_eq!(m.zone, zone);
                assert!(m.system_name.as_deref().is_some_and(|n| !n.is_empty()));
            }
        }
        for d in ["fw-border", "fw-core", "sw-core"] {
            let x = a.iter().find(|x| x.host == d).unwrap();
            assert_eq!(x.system, None);
            assert_eq!(x.level, None);
        }
        assert_eq!(a.iter().find(|x| x.host == "fw-border").unwrap().zone, "border");
        assert_eq!(a.iter().find(|x| x.host == "sw-core").unwrap().zone, "internal");
        for x in &a {
            let z = ZONES.iter().find(|z| z.id == x.zone).unwrap();
            let IpAddr::V4(v4) = x.ip else { panic!("v4") };
            assert_eq!(v4.octets()[..3], z.prefix, "{}", x.host);
            assert!(
                z.cidr
                    .starts_with(&format!("{}.{}.{}.0/24", z.prefix[0], z.prefix[1], z.prefix[2]))
            );
        }
        // The actors are documentation addresses outside the citizens' .2–.199.
        for ip in [ATTACKER_SSH_IP, ATTACKER_WEB_IP, SCANNER_IP, BAD_IP] {
            let v: Ipv4Addr = ip.parse().unwrap();
            let o = v.octets();
            assert!(o[..3] == [198, 51, 100] || o[..3] == [192, 0, 2]);
            assert!(o[3] >= 200);
        }
    }

    #[test]
    fn live_is_monotonic_near_the_rate_and_replays_stories() {
        let start = end();
        let eps = 20.0;
        let horizon = start + Duration::minutes(30);
        let mut n = 0usize;
        let mut prev = start;
        let mut hosts = BTreeSet::new();
        let (mut ssh, mut scan, mut sqli, mut beacons) = (0, 0, 0, 0);
        for r in LiveDemo::new(start, eps, 3) {
            if r.at >= horizon {
                break;
            }
            assert!(r.at >= prev, "time went back");
            assert!(r.at >= start);
            prev = r.at;
            n += 1;
            check_line(&r);
            hosts.insert(r.host.clone());
            if r.line.contains("Failed password for invalid user")
                && r.line.contains(ATTACKER_SSH_IP)
            {
                ssh += 1;
            }
            if r.line.contains(&format!(" src={SCANNER_IP} ")) {
                scan += 1;
            }
            if r.line.contains("sqlmap/") && r.host == "dvc-app01" {
                sqli += 1;
            }
            if r.line.contains(&format!("query[A] {BAD_DOMAIN}")) {
                beacons += 1;
            }
        }
        let rate = n as f64 / 1800.0;
        assert!((rate - eps).abs() < eps * 0.1, "rate {rate}");
        assert!(ssh >= 10 && scan >= 100 && sqli >= 10, "ssh {ssh} scan {scan} sqli {sqli}");
        assert!((27..=32).contains(&beacons), "{beacons} beacons");
        assert!(!hosts.contains("bc01"));
        assert!(hosts.contains("web01") && hosts.contains("fw-border") && hosts.contains("db01"));
        // A low rate stays near its target too.
        let start2 = end();
        let slow: Vec<DemoRecord> = LiveDemo::new(start2, 2.0, 5)
            .take_while(|r| r.at < start2 + Duration::hours(1))
            .collect();
        let rate = slow.len() as f64 / 3600.0;
        assert!((rate - 2.0).abs() < 0.4, "slow rate {rate}");
    }

    #[test]
    fn short_and_empty_spans() {
        assert!(backfill(end(), Duration::zero(), 1).len() <= 1);
        let r = backfill(end(), Duration::minutes(5), 1);
        assert!(r.iter().all(|x| x.at >= end() - Duration::minutes(5) && x.at <= end()));
    }
}
