/**
 * The console's words in Vietnamese, the language every page opens in. en.ts must give every
 * key (its type is this object's), so no page can show a key in only one language.
 * `{name}` marks a value filled in by the page.
 */
export const vi = {
  'lang.name': 'Tiếng Việt',
  'lang.other': 'English',
  'nav.label': 'Mục chính',
  'nav.overview': 'Tổng quan',
  'nav.check': 'Tra cứu điểm kiểm soát',
  'nav.logout': 'Đăng xuất',
  'who.signedIn': 'Đang đăng nhập: {user} ({role})',
  'role.admin': 'quản trị',
  'role.manager': 'quản lý đơn vị',
  'role.guard': 'bảo vệ',
  'role.inspector': 'thanh tra',

  'login.title': 'Đăng nhập',
  'login.intro': 'Bảng điều khiển qrgate dành cho quản lý đơn vị, bảo vệ và thanh tra.',
  'login.username': 'Tên đăng nhập',
  'login.password': 'Mật khẩu',
  'login.submit': 'Đăng nhập',
  'login.wrong': 'Sai tên đăng nhập hoặc mật khẩu.',
  'login.missing': 'Hãy nhập tên đăng nhập và mật khẩu.',
  'login.throttled': 'Đăng nhập sai quá nhiều lần. Hãy thử lại sau {seconds} giây.',
  'login.publicCheck': 'Chỉ cần xem số lượt của một điểm kiểm soát? Tra cứu không cần đăng nhập.',

  'check.title': 'Tra cứu điểm kiểm soát',
  'check.intro': 'Nhập mã 14 chữ số in trên biển của điểm kiểm soát để xem số lượt quét.',
  'check.code': 'Mã điểm kiểm soát (14 chữ số)',
  'check.submit': 'Tra cứu',
  'check.problem.non-digit': 'Mã chỉ gồm chữ số.',
  'check.problem.length': 'Mã phải có đúng 14 chữ số.',
  'check.problem.check-digit': 'Mã không đúng: có một chữ số gõ nhầm hoặc hai chữ số bị đảo chỗ.',
  'check.notFound': 'Không có điểm kiểm soát nào mang mã {code}.',
  'check.scans': 'Số lượt quét tại {name}',

  'stats.lastHour': '1 giờ qua',
  'stats.lastDay': '24 giờ qua',
  'stats.lastWeek': '7 ngày qua',
  'stats.lastMonth': '30 ngày qua',

  'overview.title': 'Tổng quan',
  'overview.checkpoints': 'Điểm kiểm soát trong 24 giờ qua',
  'overview.noCheckpoints': 'Chưa có điểm kiểm soát nào bạn được xem.',
  'overview.terminals': 'Thiết bị đầu cuối',
  'overview.online': '{count} trực tuyến',
  'overview.offline': '{count} mất kết nối',
  'overview.noTerminals': 'Chưa có thiết bị nào được đăng ký.',
  'col.code': 'Mã',
  'col.name': 'Tên',
  'col.lastHour': 'Lượt trong 1 giờ',
  'col.granted': 'Cho qua',
  'col.refused': 'Từ chối',
  'col.duplicate': 'Quét lặp',
  'col.terminal': 'Thiết bị',
  'col.checkpoint': 'Điểm kiểm soát',
  'col.state': 'Trạng thái',
  'col.lastSeen': 'Liên lạc lần cuối',
  'state.online': 'Trực tuyến',
  'state.offline': 'Mất kết nối',
  'state.never': 'Chưa từng kết nối',

  'error.401': 'Bạn cần đăng nhập.',
  'error.403': 'Bạn không có quyền xem trang này.',
  'error.404': 'Không tìm thấy trang hoặc mục này.',
  'error.429': 'Quá nhiều yêu cầu. Hãy thử lại sau ít phút.',
  'error.other': 'Đã có lỗi. Hãy thử lại; nếu vẫn lỗi, báo cho quản trị viên.',
  'error.title': 'Không thực hiện được',
  'error.home': 'Về trang tổng quan',
} as const;

export type MessageKey = keyof typeof vi;
export type Messages = Readonly<Record<MessageKey, string>>;
