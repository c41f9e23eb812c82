/* texts.h — the Russian message catalogue: every text a person reads.
 *
 * Purpose: no Russian literal lives anywhere else in the code. Texts are
 * HTML (Telegram parse_mode HTML); placeholders are printf-style and their
 * values must be HTML-escaped by the caller (tg_html_escape) when they come
 * from people.
 *
 * Exports: text_id_t, text_get.
 * Threads: any (read-only table).
 */
#ifndef PLUS7_TEXTS_H
#define PLUS7_TEXTS_H

#define TEXTS_LIST(X)                                                                      \
    X(T_GREETING, "Здравствуйте! Это бот <b>+7Доставки</b> — доставка заказов Ozon "       \
                  "в ДНР, ЛНР, Запорожской и Херсонской областях.\n\n"                     \
                  "Чтобы видеть свои заказы, поделитесь номером телефона — кнопка ниже. "  \
                  "Отследить посылку можно и без регистрации: просто пришлите её номер.")  \
    X(T_ASK_CONTACT, "Нажмите кнопку «📱 Поделиться номером» внизу экрана.")               \
    X(T_CONTACT_NOT_OWN, "Это не ваш номер: принимаем только собственный контакт. "        \
                         "Нажмите кнопку «📱 Поделиться номером» — Telegram отправит "     \
                         "именно ваш номер.")                                              \
    X(T_CONTACT_BAD_PHONE, "Не удалось распознать номер телефона. Нажмите кнопку "         \
                           "«📱 Поделиться номером» ещё раз.")                              \
    X(T_REGISTERED, "Спасибо, %s! Вы зарегистрированы. Выберите действие в меню.")         \
    X(T_WELCOME_BACK, "С возвращением, %s! Выберите действие в меню.")                     \
    X(T_MENU_CLIENT, "Главное меню. Пришлите номер отправления, чтобы узнать его статус, " \
                     "или выберите действие.")                                             \
    X(T_MENU_COURIER, "Меню курьера. Включите трансляцию геопозиции, чтобы диспетчер "     \
                      "видел вас на карте.")                                               \
    X(T_MENU_OPERATOR, "Меню оператора.")                                                  \
    X(T_MENU_ADMIN, "Меню администратора.")                                                \
    X(T_HELP_GUEST, "Я помогу отследить посылку Ozon и оформить доставку.\n\n"             \
                    "• Пришлите номер отправления (например, <code>12345678-0001-1</code>) " \
                    "— покажу статус.\n"                                                   \
                    "• Поделитесь номером телефона, чтобы видеть свои заказы.\n"           \
                    "• /cancel — отменить текущее действие, /menu — главное меню.")        \
    X(T_HELP_CLIENT, "Что я умею:\n"                                                       \
                     "• 📦 Отследить — статус посылки по номеру отправления.\n"            \
                     "• 🚚 Оформить доставку — курьер привезёт заказ по адресу.\n"         \
                     "• 📋 Мои заказы — ваши заказы и их статусы.\n"                       \
                     "• 💬 Оператор — вопрос живому человеку.\n"                           \
                     "/menu — главное меню, /cancel — отменить действие.")                 \
    X(T_HELP_COURIER, "Курьер: «🗺 Мой маршрут» — заказы на сегодня; "                     \
                      "«📍 Геопозиция» — трансляция местоположения.\n"                     \
                      "/menu — меню, /cancel — отменить действие.")                        \
    X(T_HELP_STAFF, "Оператор: обращения клиентов, поиск заказов, рассылки.\n"             \
                    "/menu — меню, /cancel — отменить действие.")                          \
    X(T_CANCELLED, "Действие отменено.")                                                   \
    X(T_NOT_UNDERSTOOD, "Не понял вас. Выберите действие в меню или пришлите номер "       \
                        "отправления в формате <code>12345678-0001-1</code>.")             \
    X(T_TRACK_ASK, "Пришлите номер отправления Ozon, например <code>12345678-0001-1</code>.") \
    X(T_TRACK_BAD_FORMAT, "«%s» не похоже на номер отправления. Формат: "                  \
                          "<code>12345678-0001-1</code> — цифры и два дефиса.")            \
    X(T_TRACK_NOT_FOUND, "Отправление <code>%s</code> не найдено ни у нас, ни в Ozon. "     \
                         "Проверьте номер: он есть в приложении Ozon, в карточке заказа.")  \
    X(T_TRACK_UNAVAILABLE, "Не удалось узнать статус <code>%s</code>: сервис Ozon сейчас "  \
                           "недоступен. Попробуйте через несколько минут.")                \
    X(T_TRACK_HEAD, "📦 Отправление <code>%s</code>")                                     \
    X(T_TRACK_STATUS, "Статус: <b>%s</b>")                                                 \
    X(T_TRACK_SINCE, " (с %s)")                                                            \
    X(T_TRACK_PICKUP, "Пункт выдачи: %s")                                                  \
    X(T_TRACK_STORAGE, "Хранение до: %s")                                                  \
    X(T_TRACK_ITEMS, "Состав: %s")                                                         \
    X(T_TRACK_ADDRESS, "Адрес доставки: %s")                                               \
    X(T_TRACK_HISTORY, "История:")                                                         \
    X(T_TRACK_SUBSCRIBED, "🔔 Я сообщу, когда статус изменится.")                           \
    X(T_TRACK_OWNER_HINT, "Подробности видны получателю: поделитесь номером телефона, "    \
                          "указанным в заказе.")                                           \
    X(T_MY_ORDERS_EMPTY, "У вас пока нет заказов, связанных с номером телефона. "          \
                         "Пришлите номер отправления — я его найду.")                      \
    X(T_MY_ORDERS_HEAD, "📋 Ваши заказы:")                                                 \
    X(T_BTN_REFRESH, "🔄 Обновить")                                                        \
    X(T_NEED_REGISTRATION, "Эта функция доступна после регистрации. Нажмите "              \
                           "«📱 Поделиться номером».")                                     \
    X(T_SOON, "Этот раздел скоро заработает.")                                             \
    X(T_CALLBACK_OK, "")                                                                   \
    X(T_CALLBACK_STALE, "Кнопка устарела.")                                                \
    X(T_BTN_SHARE_PHONE, "📱 Поделиться номером")                                          \
    X(T_BTN_TRACK, "📦 Отследить")                                                         \
    X(T_BTN_ORDER, "🚚 Оформить доставку")                                                 \
    X(T_BTN_MY_ORDERS, "📋 Мои заказы")                                                    \
    X(T_BTN_SUPPORT, "💬 Оператор")                                                        \
    X(T_BTN_RETURN, "↩️ Возврат")                                                          \
    X(T_BTN_HELP, "ℹ️ Помощь")                                                             \
    X(T_BTN_ROUTE, "🗺 Мой маршрут")                                                       \
    X(T_BTN_LOCATION, "📍 Геопозиция")                                                     \
    X(T_BTN_TICKETS, "🎫 Обращения")                                                       \
    X(T_BTN_BROADCAST, "📢 Рассылка")                                                      \
    X(T_BTN_FIND_ORDER, "🔎 Найти заказ")                                                  \
    X(T_BTN_ADMIN, "⚙️ Администрирование")                                                 \
    X(T_BTN_CANCEL, "✖️ Отмена")                                                           \
    X(T_INPUT_PLACEHOLDER, "Номер отправления или команда")

typedef enum text_id {
#define TEXTS_ENUM_(id, s) id,
    TEXTS_LIST(TEXTS_ENUM_)
#undef TEXTS_ENUM_
    T__COUNT
} text_id_t;

/* The catalogue text for `id` (never NULL; "" for an out-of-range id). */
const char *text_get(text_id_t id);

#endif
