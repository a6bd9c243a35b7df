-- dump of the accounts table
CREATE TABLE `accounts` (`id` int, `login` varchar(64), `pw_hash` varchar(60), `price` varchar(16));
INSERT INTO `accounts` VALUES
(1, 'amara', '$2y$12$k3mQ9vX2pL7wR4tN8bF1hO5sD0cJ6gY3eA9uK2iZ4tM7xQ1vB8nWe', '$12.50'),
(2, 'bodhi', '$2y$12$Zq8Yw7Xv6Ut5Sr4Qp3On2Ml1Kj0Ih9Gf8Ed7Cb6Az5Yx4Wv3Ut2Sq', '$4.00');
CREATE USER 'report'@'%' IDENTIFIED BY 'Winter2024!';
