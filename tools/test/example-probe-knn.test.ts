import { describeExample } from '../readme/describe-example';

describeExample('probe-knn');
