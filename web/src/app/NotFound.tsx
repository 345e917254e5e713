import { Link } from 'react-router';

export default function NotFound() {
  return (
    <div className="page narrow">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/swarms">Go to your swarms</Link>.
      </p>
    </div>
  );
}
