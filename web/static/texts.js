/* texts.js — every word the dashboard shows, in Russian, in one catalogue.
 *
 * Purpose: pages and widgets never hold literal UI text; they take it from
 * here (the bot's texts live in actors/texts/*.def, the dashboard's here).
 * Text that came from the API (names, addresses, status_text) is data, not
 * catalogue, and is shown with textContent like everything else.
 *
 * Exports: T (the catalogue), STATUSES (order status codes in flow order).
 * Thread: the page's main thread (a plain ES module).
 */

export const STATUSES = ['created', 'accepted', 'in_transit', 'at_pickup_point',
    'out_for_delivery', 'delivered', 'returned', 'cancelled'];

export const T = Object.freeze({
    app: { title: 'Панель +7Доставки', brand: '+7Доставка', skip: 'К содержимому' },
    nav: {
        label: 'Разделы',
        summary: 'Сводка', orders: 'Заказы', couriers: 'Курьеры',
        tickets: 'Обращения', payments: 'Оплаты', settings: 'Настройки',
        soon: 'скоро',
    },
    roles: { operator: 'оператор', manager: 'менеджер', admin: 'администратор' },
    session: { logout: 'Выйти', live_on: 'обновления в реальном времени', live_off: 'нет связи, переподключаемся…' },
    login: {
        title: 'Вход в панель',
        login: 'Логин', password: 'Пароль', submit: 'Войти', busy: 'Входим…',
        bot_title: 'Вход через бота',
        bot_text: 'Операторы и администраторы могут войти без пароля: в Telegram-боте нажмите «🖥 Войти в панель» и откройте ссылку из кнопки. Ссылка одноразовая и действует 5 минут.',
        wrong: 'Неверный логин или пароль.',
        limited: (s) => `Слишком много попыток. Повторите через ${s}.`,
        need: 'Введите логин и пароль.',
    },
    common: {
        loading: 'Загрузка…', error: 'Ошибка', retry: 'Повторить', none: '—', empty: 'Ничего не найдено.',
        forbidden: 'Этот раздел доступен менеджерам и администраторам.',
        not_found: 'Страница не найдена.', field: (f) => `поле «${f}»`,
        network: 'Сервер не отвечает. Проверьте соединение.',
        updated: 'обновлено',
    },
    filters: {
        legend: 'Период и зона', from: 'С', to: 'По', zone: 'Зона', all_zones: 'Все зоны',
        group: 'Группировка', day: 'по дням', hour: 'по часам',
        last7: '7 дней', last30: '30 дней', bad_range: 'Дата «с» позже даты «по».',
    },
    summary: {
        title: 'Сводка',
        export_csv: 'Скачать CSV', export_xlsx: 'Скачать Excel', exports: 'Выгрузка заказов за период',
        kpi: {
            created: 'Создано', delivered: 'Доставлено', cancelled: 'Отменено', returned: 'Возвращено',
            delivery_time: 'Время доставки', pickup_time: 'Выдача из ПВЗ', processing_time: 'Обработка',
            on_time_rate: 'Вовремя', first_attempt_rate: 'С первой попытки',
            waiting: 'Ждут в ПВЗ', notifications: 'Уведомления', sms_count: 'SMS',
            broadcasts: 'Рассылки', paid: 'Оплачено',
        },
        p50: 'медиана', p90: '90%', avg: 'среднее',
        waiting_age: (a) => `средний срок ${a}`,
        notif_detail: (tg, sms, failed) => `Telegram ${tg} · SMS ${sms} · ошибок ${failed}`,
        broadcast_detail: (n) => `${n} сообщений`,
        paid_detail: (n) => `${n} заказов`,
        on_time_hint: 'доставлено в выбранный слот',
        charts: {
            orders: 'Заказы', times: 'Время доставки, ч', notifications: 'Уведомления по каналам',
            waiting: 'Посылки в ПВЗ по сроку ожидания',
        },
        series: {
            created: 'создано', delivered: 'доставлено', cancelled: 'отменено', returned: 'возвращено',
            telegram: 'Telegram', sms: 'SMS', failed: 'не доставлено', parcels: 'посылок',
        },
        cats: { delivery: 'Доставка', pickup: 'Из ПВЗ', processing: 'Обработка' },
        x_label: 'Период',
        couriers: 'Нагрузка курьеров',
        courier_cols: ['Курьер', 'Доставлено', 'Неудачно', 'В день', 'В час', 'Смена', 'Км'],
        couriers_empty: 'За период нет данных о курьерах.',
        zones: 'По зонам',
        zone_cols: ['Зона', 'Создано', 'Доставлено', 'Отменено', 'Возвращено', 'Вовремя', 'Медиана доставки'],
        no_data: 'Нет данных за период',
    },
    orders: {
        title: 'Заказы', search: 'Поиск', search_ph: 'Номер отправления, телефон или имя',
        status: 'Статус', all_statuses: 'Все статусы', find: 'Найти', more: 'Показать ещё',
        cols: ['Отправление', 'Статус', 'Зона', 'Клиент', 'Телефон', 'Создан', 'Оплата'],
        paid: 'оплачен', unpaid: '—', shown: (n) => `Показано: ${n}`,
        fresh: 'Есть изменения в других заказах', refresh: 'Обновить список',
    },
    order: {
        back: '← Все заказы', title: (p) => `Заказ ${p}`,
        fields: {
            status: 'Статус', zone: 'Зона', client: 'Клиент', phone: 'Телефон', address: 'Адрес',
            slot: 'Слот доставки', price: 'Стоимость', paid: 'Оплата', created: 'Создан',
        },
        paid_yes: 'оплачен', paid_no: 'не оплачен',
        timeline: 'История', empty: 'Событий пока нет.', not_found: 'Заказ не найден.',
        kinds: {
            status: 'Статус', notification: 'Уведомление', reminder: 'Напоминание', form: 'Анкета',
            broadcast: 'Рассылка', payment: 'Оплата', courier: 'Курьер',
        },
        sources: {
            ozon: 'Ozon', logistics: 'логистика', courier: 'курьер', operator: 'оператор', bot: 'бот',
            notifier: 'уведомления', reminders: 'напоминания',
        },
        channels: { telegram: 'Telegram', sms: 'SMS' },
        // '' = nothing worth saying (an applied status is the normal case)
        outcomes: {
            applied: '', ignored: 'не применён: устарел', sent: 'отправлено', delivered: 'доставлено',
            failed: 'ошибка', blocked: 'бот заблокирован', pending: 'в очереди', queued: 'в очереди',
            fallback: 'отправлено по SMS вместо Telegram', skipped: 'пропущено', scheduled: 'запланировано',
            ordered: 'оформлена', cancelled: 'отменена',
        },
        live: 'Статус обновлён',
    },
    statuses: {
        created: 'Оформлен', accepted: 'Принят на склад', in_transit: 'В пути',
        at_pickup_point: 'Прибыл в пункт выдачи', out_for_delivery: 'Передан курьеру',
        delivered: 'Выдан', returned: 'Возвращён', cancelled: 'Отменён',
    },
    units: { s: 'с', min: 'мин', h: 'ч', d: 'дн.', rub: '₽' },
});
